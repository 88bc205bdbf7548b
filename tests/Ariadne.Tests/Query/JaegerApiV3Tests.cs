using System.Net;
using System.Text.Json.Nodes;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Tests.Infrastructure;
using static Ariadne.Tests.Infrastructure.TestSpans;

namespace Ariadne.Tests.Query;

public sealed class JaegerApiV3Tests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly string _tenant = "v3-" + Guid.NewGuid().ToString("N")[..12];

    private ISpanStore Store => fixture.Server.Services.GetRequiredService<ISpanStore>();

    private static string Window(string prefix = "query.start_time_") =>
        $"{prefix}min=2026-03-02T09:00:00Z&{prefix}max=2026-03-02T10:00:00.5%2B00:00";

    [Fact]
    public async Task Trace_by_id_is_otlp_json_in_a_result_field()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        var (status, body, contentType) = await GetAsync($"/api/v3/traces/{CheckoutTrace.TraceId.ToHex()}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/json", contentType);
        Golden.AssertMatches("checkout-trace-otlp.json", body);
    }

    [Fact]
    public async Task Raw_trace_keeps_stored_attribute_order_and_has_no_warnings()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        var result = await GetJsonAsync($"/api/v3/traces/{CheckoutTrace.TraceId.ToHex()}?raw_traces=true");

        var spans = result["result"]!["resourceSpans"]!.AsArray().SelectMany(r => r!["scopeSpans"]!.AsArray()).SelectMany(s => s!["spans"]!.AsArray()).ToList();
        Assert.Equal(7, spans.Count);
        Assert.DoesNotContain("@jaeger@warnings", result.ToJsonString(), StringComparison.Ordinal);
        var root = spans.Single(s => (string)s!["spanId"]! == "00f067aa0ba902b7")!;
        Assert.Equal(["http.request.method", "url.path", "http.route", "http.response.status_code", "user_agent.original"], root["attributes"]!.AsArray().Select(a => (string)a!["key"]!));
    }

    [Fact]
    public async Task Spans_of_equal_resources_share_one_resource_spans_entry_with_a_service_name_attribute()
    {
        var traceId = NewTraceId();
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);
        // Written in two batches, each with its own resource instance that names the service only in ServiceName.
        await Store.AppendAsync(_tenant, [Create(new Resource { ServiceName = "zipkin-svc" }, traceId, 1, "a", start, TimeSpan.FromMilliseconds(2), SpanKind.Server)], default);
        await Store.AppendAsync(_tenant, [Create(new Resource { ServiceName = "zipkin-svc" }, traceId, 2, "b", start, TimeSpan.FromMilliseconds(1), parentSpanId: 1)], default);

        var resourceSpans = Assert.Single((await GetJsonAsync($"/api/v3/traces/{traceId.ToHex()}"))["result"]!["resourceSpans"]!.AsArray())!;

        AssertJson("""{"attributes":[{"key":"service.name","value":{"stringValue":"zipkin-svc"}}]}""", resourceSpans["resource"]!.ToJsonString());
        Assert.Equal(2, resourceSpans["scopeSpans"]![0]!["spans"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("/api/v3/traces/00000000000000000000000000000042", HttpStatusCode.NotFound, "No traces found")]
    [InlineData("/api/v3/traces/xyz", HttpStatusCode.BadRequest, "malformed parameter trace_id: strconv.ParseUint: parsing \"xyz\": invalid syntax")]
    [InlineData("/api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736?start_time=today", HttpStatusCode.BadRequest,
        "malformed parameter start_time: parsing time \"today\" as \"2006-01-02T15:04:05.999999999Z07:00\": cannot parse \"today\" as \"2006\"")]
    [InlineData("/api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736?endTime=2026-13-01T00:00:00Z", HttpStatusCode.BadRequest,
        "malformed parameter endTime: parsing time \"2026-13-01T00:00:00Z\": month out of range")]
    [InlineData("/api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736?raw_traces=yes", HttpStatusCode.BadRequest,
        "malformed parameter raw_traces: strconv.ParseBool: parsing \"yes\": invalid syntax")]
    public async Task Trace_by_id_errors_use_the_gateway_error_shape(string url, HttpStatusCode status, string message)
    {
        await AssertGatewayErrorAsync(url, status, message);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/api/v3/services")).Status);
    }

    [Fact]
    public async Task Services_and_operations_use_the_gateway_json()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);
        await Store.AppendAsync(_tenant, [Create(Resource("orders"), NewTraceId(), 1, "cleanup", DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(1), SpanKind.Unspecified)], default);

        AssertJson("""{"services":["gateway","orders","payments"]}""", (await GetAsync("/api/v3/services")).Body);
        AssertJson("{}", (await GetAsync("/api/v3/services", _tenant + "-empty")).Body);
        AssertJson(
            """
            {"operations":[{"name":"POST /orders","spanKind":"server"},{"name":"cleanup","spanKind":"internal"},
            {"name":"orders publish","spanKind":"producer"},{"name":"payments.PaymentService/Charge","spanKind":"client"}]}
            """,
            (await GetAsync("/api/v3/operations?service=orders")).Body);
        AssertJson("""{"operations":[{"name":"orders publish","spanKind":"producer"}]}""", (await GetAsync("/api/v3/operations?service=orders&span_kind=producer")).Body);
        AssertJson("""{"operations":[{"name":"POST /orders","spanKind":"server"}]}""", (await GetAsync("/api/v3/operations?service=orders&spanKind=server")).Body);
        AssertJson("{}", (await GetAsync("/api/v3/operations?service=nobody")).Body);
    }

    [Theory]
    [InlineData("query.service_name=payments")]
    [InlineData("query.serviceName=orders&query.operationName=POST%20/orders")]
    [InlineData("query.service_name=orders&query.attributes=%7B%22order.id%22%3A%22o-1001%22%7D")]
    [InlineData("query.service_name=payments&query.attributes=%7B%22error%22%3A%22true%22%2C%22host.name%22%3A%22pay-1%22%7D")]
    [InlineData("query.service_name=orders&query.duration_min=470ms&query.duration_max=1s")]
    [InlineData("query.attributes=%7B%22messaging.system%22%3A%22rabbitmq%22%7D")]
    public async Task Search_finds_the_trace(string query)
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        var answer = await GetJsonAsync($"/api/v3/traces?{query}&{Window()}");

        var traceIds = answer["result"]!["resourceSpans"]!.AsArray()
            .SelectMany(r => r!["scopeSpans"]!.AsArray()).SelectMany(s => s!["spans"]!.AsArray())
            .Select(s => (string)s!["traceId"]!).Distinct();
        Assert.Equal([CheckoutTrace.TraceId.ToHex()], traceIds);
    }

    [Fact]
    public async Task Search_combines_the_resource_spans_of_all_found_traces_up_to_the_search_depth()
    {
        var start = DateTimeOffset.UtcNow.AddMinutes(-5);
        var ids = Enumerable.Range(0, 3).Select(_ => NewTraceId()).ToArray();
        for (var i = 0; i < ids.Length; i++)
        {
            await Store.AppendAsync(_tenant, [Create(Resource("clock"), ids[i], 1, "tick", start.AddSeconds(i), TimeSpan.FromMilliseconds(1))], default);
        }

        var window = $"query.start_time_min={start.AddMinutes(-1):O}&query.start_time_max={start.AddMinutes(1):O}".Replace("+", "%2B", StringComparison.Ordinal);
        var all = await GetJsonAsync($"/api/v3/traces?query.service_name=clock&{window}");
        var two = await GetJsonAsync($"/api/v3/traces?query.service_name=clock&query.num_traces=2&{window}");
        var one = await GetJsonAsync($"/api/v3/traces?query.service_name=clock&query.searchDepth=1&{window}");

        Assert.Equal(ids.Reverse().Select(i => i.ToHex()), TraceIds(all));
        Assert.Equal([ids[2].ToHex(), ids[1].ToHex()], TraceIds(two));
        Assert.Equal([ids[2].ToHex()], TraceIds(one));
        await AssertGatewayErrorAsync($"/api/v3/traces?query.service_name=nobody&{window}", HttpStatusCode.NotFound, "No traces found");
    }

    [Theory]
    [InlineData("query.service_name=a", "query.start_time_min and query.start_time_max are required")]
    [InlineData("query.service_name=a&query.start_time_min=2026-03-02T09:00:00Z", "query.start_time_min and query.start_time_max are required")]
    [InlineData("query.start_time_min=yesterday&query.start_time_max=2026-03-02T09:00:00Z",
        "malformed parameter query.start_time_min: parsing time \"yesterday\" as \"2006-01-02T15:04:05.999999999Z07:00\": cannot parse \"yesterday\" as \"2006\"")]
    [InlineData("query.startTimeMin=2026-03-02&query.start_time_max=2026-03-02T09:00:00Z",
        "malformed parameter query.startTimeMin: parsing time \"2026-03-02\" as \"2006-01-02T15:04:05.999999999Z07:00\": cannot parse \"\" as \"T\"")]
    [InlineData("query.start_time_min=2026-03-02T09:00:00Z&query.start_time_max=2026-03-02T25:00:00Z",
        "malformed parameter query.start_time_max: parsing time \"2026-03-02T25:00:00Z\": hour out of range")]
    [InlineData("query.start_time_min=2026-02-30T09:00:00Z&query.start_time_max=2026-03-02T09:00:00Z",
        "malformed parameter query.start_time_min: parsing time \"2026-02-30T09:00:00Z\": day out of range")]
    [InlineData("query.start_time_min=2026-03-02T09:00:00Zjunk&query.start_time_max=2026-03-02T09:00:00Z",
        "malformed parameter query.start_time_min: parsing time \"2026-03-02T09:00:00Zjunk\": extra text: \"junk\"")]
    [InlineData("query.duration_min=fast", "malformed parameter query.duration_min: time: invalid duration \"fast\"")]
    [InlineData("query.durationMax=3", "malformed parameter query.durationMax: time: missing unit in duration \"3\"")]
    [InlineData("query.num_traces=many", "malformed parameter query.num_traces: strconv.ParseUint: parsing \"many\": invalid syntax")]
    [InlineData("query.search_depth=-1", "malformed parameter query.search_depth: strconv.ParseUint: parsing \"-1\": invalid syntax")]
    [InlineData("query.attributes=%7B%22a%22%3Atrue%7D", "malformed parameter query.attributes: json: cannot unmarshal bool into Go struct field .a of type string")]
    [InlineData("query.attributes=nope", "malformed parameter query.attributes: invalid character 'o' in literal null (expecting 'u')")]
    [InlineData("query.raw_traces=2", "malformed parameter query.raw_traces: strconv.ParseBool: parsing \"2\": invalid syntax")]
    public async Task Bad_search_parameters_are_400_with_the_gateways_message(string query, string message)
    {
        await AssertGatewayErrorAsync("/api/v3/traces?" + query, HttpStatusCode.BadRequest, message);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/api/v3/services")).Status);
    }

    [Fact]
    public async Task An_invalid_tenant_is_refused_in_the_gateway_error_shape()
    {
        await AssertGatewayErrorAsync(
            "/api/v3/services",
            HttpStatusCode.BadRequest,
            "invalid tenant in the x-tenant or X-Scope-OrgID header: use 1 to 64 letters, digits, '-', '_' or '.'",
            tenant: "bad/tenant");
    }

    private static IEnumerable<string> TraceIds(JsonNode answer) =>
        answer["result"]!["resourceSpans"]!.AsArray().Select(r => (string)r!["scopeSpans"]![0]!["spans"]![0]!["traceId"]!);

    private static void AssertJson(string expected, string actual)
    {
        var e = JsonNode.Parse(expected);
        var a = JsonNode.Parse(actual);
        Assert.True(JsonNode.DeepEquals(e, a), $"Expected {e!.ToJsonString()}\nActual   {a!.ToJsonString()}");
    }

    private Task<JsonNode> GetJsonAsync(string url) => new TenantQuery(fixture.Query, _tenant).GetJsonAsync(url);

    private Task<(HttpStatusCode Status, string Body, string? ContentType)> GetAsync(string url, string? tenant = null) =>
        new TenantQuery(fixture.Query, _tenant).GetAsync(url, tenant);

    private async Task AssertGatewayErrorAsync(string url, HttpStatusCode status, string message, string? tenant = null)
    {
        var (actualStatus, body, contentType) = await GetAsync(url, tenant);
        Assert.Equal(status, actualStatus);
        Assert.Equal("text/plain; charset=utf-8", contentType);
        Assert.EndsWith("}\n", body, StringComparison.Ordinal);
        var expected = new JsonObject { ["error"] = new JsonObject { ["httpCode"] = (int)status, ["message"] = message } };
        var actual = JsonNode.Parse(body);
        Assert.True(JsonNode.DeepEquals(expected, actual), $"Expected {expected.ToJsonString()}\nActual   {actual!.ToJsonString()}");
    }
}
