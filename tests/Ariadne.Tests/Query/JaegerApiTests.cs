using System.Net;
using System.Text.Json.Nodes;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Tests.Infrastructure;
using static Ariadne.Tests.Infrastructure.TestSpans;

namespace Ariadne.Tests.Query;

public sealed class JaegerApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly DateTimeOffset s_recent = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600);

    private readonly string _tenant = "jaeger-" + Guid.NewGuid().ToString("N")[..12];

    private ISpanStore Store => fixture.Server.Services.GetRequiredService<ISpanStore>();

    private static string CheckoutHex => CheckoutTrace.TraceId.ToHex();

    private static string Window => $"start={Micros(CheckoutTrace.Start.AddMinutes(-1))}&end={Micros(CheckoutTrace.Start.AddMinutes(1))}";

    [Fact]
    public async Task Trace_by_id_returns_spans_from_all_services_in_jaeger_shape()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        var (status, body, contentType) = await GetAsync($"/api/traces/{CheckoutHex}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/json", contentType);
        Golden.AssertMatches("checkout-trace.json", body);
    }

    [Fact]
    public async Task Trace_by_id_reads_a_trace_written_in_several_batches_in_any_order()
    {
        var spans = CheckoutTrace.Spans();
        foreach (var span in spans.Reverse())
        {
            await Store.AppendAsync(_tenant, [span], default);
        }

        var (_, body, _) = await GetAsync($"/api/traces/{CheckoutHex}");

        Golden.AssertMatches("checkout-trace.json", body);
    }

    [Fact]
    public async Task Raw_trace_skips_the_adjusters()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        var trace = (await GetJsonAsync($"/api/traces/{CheckoutHex}?raw=true"))["data"]![0]!;

        Assert.All(trace["spans"]!.AsArray(), s => Assert.Null(s!["warnings"]));
        var root = trace["spans"]![0]!;
        Assert.Equal(
            ["otel.scope.name", "http.request.method", "url.path", "http.route", "http.response.status_code", "user_agent.original", "span.kind", "w3c.tracestate"],
            root["tags"]!.AsArray().Select(t => (string)t!["key"]!));
    }

    [Fact]
    public async Task Jaegers_adjusters_fix_shared_ids_duplicates_ips_sdk_attributes_and_links()
    {
        var traceId = NewTraceId();
        var gateway = Resource("gateway");
        var orders = Resource("orders", KeyValue.String("telemetry.sdk.name", "opentelemetry"));
        var ms = TimeSpan.FromMilliseconds(10);
        var worker = Create(orders, traceId, 0xc, "work", s_recent.AddMilliseconds(2), TimeSpan.FromMilliseconds(2), parentSpanId: 0xb,
            attributes: [KeyValue.Int("ip", 0x0a000001), KeyValue.String("telemetry.sdk.language", "go"), KeyValue.String("telemetry.sdk.name", "zipkin")],
            links: [new SpanLink(default, new SpanId(5), "", [])]);
        await Store.AppendAsync(_tenant,
        [
            Create(gateway, traceId, 0xa, "GET /", s_recent, ms, SpanKind.Server),
            Create(gateway, traceId, 0xb, "call", s_recent.AddMilliseconds(1), TimeSpan.FromMilliseconds(8), SpanKind.Client, parentSpanId: 0xa),
            Create(orders, traceId, 0xb, "handle", s_recent.AddMilliseconds(1), TimeSpan.FromMilliseconds(7), SpanKind.Server, parentSpanId: 0xa),
            worker,
            Create(orders, traceId, 0xd, "orphan", s_recent.AddMilliseconds(3), TimeSpan.FromMilliseconds(1), parentSpanId: 0xee),
        ], default);
        await Store.AppendAsync(_tenant, [worker], default);

        var trace = (await GetJsonAsync($"/api/traces/{Hex(traceId)}"))["data"]![0]!;

        var spans = trace["spans"]!.AsArray().ToDictionary(s => (string)s!["operationName"]!, s => s!);
        Assert.Equal(5, spans.Count);
        Assert.Equal("0000000000000001", (string)spans["handle"]["spanID"]!);
        Assert.Equal("000000000000000b", (string)spans["handle"]["references"]![0]!["spanID"]!);
        Assert.Equal("0000000000000001", (string)spans["work"]["references"]![0]!["spanID"]!);
        Assert.Single(spans["work"]["references"]!.AsArray());
        Assert.Equal(
            ["conflicting values between Span and Resource for attribute telemetry.sdk.name", "Invalid span link removed"],
            spans["work"]["warnings"]!.AsArray().Select(w => (string)w!));
        Assert.Equal(
            ["parent span ID=00000000000000ee is not in the trace; skipping clock skew adjustment"],
            spans["orphan"]["warnings"]!.AsArray().Select(w => (string)w!));
        var workTags = spans["work"]["tags"]!.AsArray().ToDictionary(t => (string)t!["key"]!, t => t!["value"]!.ToJsonString());
        Assert.Equal("\"10.0.0.1\"", workTags["ip"]);
        Assert.Equal("\"zipkin\"", workTags["telemetry.sdk.name"]);
        Assert.False(workTags.ContainsKey("telemetry.sdk.language"));
        var ordersProcess = trace["processes"]![(string)spans["work"]["processID"]!]!;
        Assert.Equal(
            ["telemetry.sdk.name", "telemetry.sdk.language"],
            ordersProcess["tags"]!.AsArray().Select(t => (string)t!["key"]!));
    }

    [Fact]
    public async Task Unknown_trace_is_404_with_jaeger_error_entry()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        await AssertJaegerErrorAsync("/api/traces/00000000000000000000000000000001", HttpStatusCode.NotFound, "trace not found");
        await AssertJaegerErrorAsync($"/api/traces/{CheckoutHex}", HttpStatusCode.NotFound, "trace not found", tenant: _tenant + "-other");
    }

    [Theory]
    [InlineData("/api/traces/not-hex", "strconv.ParseUint: parsing \"not-hex\": invalid syntax")]
    [InlineData("/api/traces/4bf92f3577b34da6a3ce929d0e0e4736ff", "TraceID cannot be longer than 32 hex characters: 4bf92f3577b34da6a3ce929d0e0e4736ff")]
    [InlineData("/api/traces/zz92f3577b34da6a3ce929d0e0e4736", "strconv.ParseUint: parsing \"zz92f3577b34da6\": invalid syntax")]
    [InlineData("/api/traces/4bf92f3577b34da6a3ce929d0e0e4736?start=yesterday", "unable to parse param 'start': strconv.ParseInt: parsing \"yesterday\": invalid syntax")]
    [InlineData("/api/traces/4bf92f3577b34da6a3ce929d0e0e4736?raw=maybe", "unable to parse param 'raw': strconv.ParseBool: parsing \"maybe\": invalid syntax")]
    public async Task Malformed_trace_request_is_400_with_jaegers_message(string url, string message)
    {
        await AssertJaegerErrorAsync(url, HttpStatusCode.BadRequest, message);
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task A_64_bit_trace_id_is_found_with_or_without_leading_zeros_and_printed_with_16_digits()
    {
        var traceId = new TraceId(0, 0x00ab00cd00ef0012);
        await Store.AppendAsync(_tenant, [Create(Resource("legacy"), traceId, 1, "op", s_recent, TimeSpan.FromMilliseconds(1))], default);

        foreach (var id in (string[])["00ab00cd00ef0012", "ab00cd00ef0012", "000000000000000000ab00cd00ef0012"])
        {
            var trace = (await GetJsonAsync($"/api/traces/{id}"))["data"]![0]!;
            Assert.Equal("00ab00cd00ef0012", (string)trace["traceID"]!);
            Assert.Equal("00ab00cd00ef0012", (string)trace["spans"]![0]!["traceID"]!);
        }
    }

    [Fact]
    public async Task Services_are_listed_in_the_envelope()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        var (status, body, contentType) = await GetAsync("/api/services");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/json", contentType);
        AssertJson("""{"data":["gateway","orders","payments"],"total":3,"limit":0,"offset":0,"errors":null}""", body);
        AssertJson("""{"data":[],"total":0,"limit":0,"offset":0,"errors":null}""", (await GetAsync("/api/services", tenant: _tenant + "-empty")).Body);
    }

    [Fact]
    public async Task Legacy_operations_list_distinct_names_and_null_for_an_unknown_service()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        AssertJson(
            """{"data":["POST /orders","orders publish","payments.PaymentService/Charge"],"total":3,"limit":0,"offset":0,"errors":null}""",
            (await GetAsync("/api/services/orders/operations")).Body);
        AssertJson("""{"data":null,"total":0,"limit":0,"offset":0,"errors":null}""", (await GetAsync("/api/services/nobody/operations")).Body);
    }

    [Fact]
    public async Task Legacy_operations_accept_a_service_name_with_an_encoded_slash()
    {
        await Store.AppendAsync(_tenant, [Create(Resource("shop/web"), NewTraceId(), 1, "GET /", s_recent, TimeSpan.FromMilliseconds(1))], default);

        AssertJson("""{"data":["GET /"],"total":1,"limit":0,"offset":0,"errors":null}""", (await GetAsync("/api/services/shop%2Fweb/operations")).Body);
    }

    [Fact]
    public async Task Operations_carry_span_kinds_and_filter_by_kind()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);
        await Store.AppendAsync(_tenant, [Create(Resource("orders"), NewTraceId(), 1, "cleanup", s_recent, TimeSpan.FromMilliseconds(1), SpanKind.Unspecified)], default);

        AssertJson(
            """
            {"data":[{"name":"POST /orders","spanKind":"server"},{"name":"cleanup","spanKind":""},{"name":"orders publish","spanKind":"producer"},
            {"name":"payments.PaymentService/Charge","spanKind":"client"}],"total":4,"limit":0,"offset":0,"errors":null}
            """,
            (await GetAsync("/api/operations?service=orders")).Body);
        AssertJson(
            """{"data":[{"name":"payments.PaymentService/Charge","spanKind":"client"}],"total":1,"limit":0,"offset":0,"errors":null}""",
            (await GetAsync("/api/operations?service=orders&spanKind=client")).Body);
        AssertJson("""{"data":[],"total":0,"limit":0,"offset":0,"errors":null}""", (await GetAsync("/api/operations?service=orders&spanKind=CLIENT")).Body);
        await AssertJaegerErrorAsync("/api/operations", HttpStatusCode.BadRequest, "parameter 'service' is required");
    }

    [Fact]
    public async Task Search_returns_matching_traces_in_the_envelope()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        var (status, body, _) = await GetAsync($"/api/traces?service=payments&{Window}");

        Assert.Equal(HttpStatusCode.OK, status);
        var answer = JsonNode.Parse(body)!;
        Assert.Equal(0, (int)answer["total"]!);
        Assert.Equal(0, (int)answer["limit"]!);
        Assert.Equal(0, (int)answer["offset"]!);
        Assert.Null(answer["errors"]);
        var trace = Assert.Single(answer["data"]!.AsArray())!;
        var byId = (await GetJsonAsync($"/api/traces/{CheckoutHex}"))["data"]![0];
        Assert.True(JsonNode.DeepEquals(byId, trace));
    }

    [Theory]
    [InlineData("service=orders&operation=POST%20/orders", true)]
    [InlineData("service=orders&operation=POST", false)]
    [InlineData("service=gateway&operation=POST", true)]
    [InlineData("service=orders&tag=order.id:o-1001", true)]
    [InlineData("service=orders&tag=order.id:o-1002", false)]
    [InlineData("service=gateway&tag=http.response.status_code:502&tag=http.route:/checkout", true)]
    [InlineData("service=gateway&tag=url.full:http://orders:8080/orders", true)]
    [InlineData("service=payments&tags=%7B%22error%22%3A%22true%22%7D", true)]
    [InlineData("service=gateway&tags=%7B%22error%22%3A%22true%22%7D", false)]
    [InlineData("service=orders&tags=%7B%22span.kind%22%3A%22producer%22%2C%22messaging.system%22%3A%22rabbitmq%22%7D", true)]
    [InlineData("service=payments&tags=%7B%22exception.type%22%3A%22Payments.CardDeclinedException%22%7D", true)]
    [InlineData("service=payments&tag=host.name:pay-1", true)]
    [InlineData("service=orders&minDuration=470ms", true)]
    [InlineData("service=orders&minDuration=470.6ms", false)]
    [InlineData("service=payments&maxDuration=12.345678ms", true)]
    [InlineData("service=payments&maxDuration=12345us", false)]
    [InlineData("service=payments&minDuration=12%C2%B5s&maxDuration=13ms", true)]
    [InlineData("service=gateway&minDuration=0.5s&maxDuration=1h30m", true)]
    public async Task Search_applies_operation_tags_and_durations(string query, bool found)
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        var data = (await GetJsonAsync($"/api/traces?{query}&{Window}"))["data"]!.AsArray();

        Assert.Equal(found ? 1 : 0, data.Count);
    }

    [Fact]
    public async Task Search_window_limit_and_order_follow_the_parameters()
    {
        var ids = Enumerable.Range(0, 5).Select(_ => NewTraceId()).ToArray();
        for (var i = 0; i < ids.Length; i++)
        {
            await Store.AppendAsync(_tenant, [Create(Resource("clock"), ids[i], 1, "tick", s_recent.AddSeconds(i * 10), TimeSpan.FromMilliseconds(1))], default);
        }

        Assert.Equal(ids.Reverse().Select(Hex), await SearchIdsAsync("service=clock"));
        Assert.Equal([Hex(ids[4]), Hex(ids[3])], await SearchIdsAsync("service=clock&limit=2"));
        Assert.Equal(
            [Hex(ids[3]), Hex(ids[2])],
            await SearchIdsAsync($"service=clock&start={Micros(s_recent.AddSeconds(20))}&end={Micros(s_recent.AddSeconds(30))}"));
        Assert.Equal([Hex(ids[1]), Hex(ids[0])], await SearchIdsAsync($"service=clock&end={Micros(s_recent.AddSeconds(10))}&lookback=1h"));
        Assert.Empty(await SearchIdsAsync($"service=clock&start={Micros(s_recent.AddSeconds(41))}"));
    }

    [Fact]
    public async Task Search_by_trace_ids_returns_the_known_ones_without_needing_a_service()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);
        var other = NewTraceId();
        await Store.AppendAsync(_tenant, [Create(Resource("clock"), other, 1, "tick", s_recent, TimeSpan.FromMilliseconds(1))], default);

        var answer = await GetJsonAsync($"/api/traces?traceID={CheckoutHex}&traceID={Hex(other)}&traceID=0123456789abcdef");

        Assert.Equal([CheckoutHex, Hex(other)], answer["data"]!.AsArray().Select(t => (string)t!["traceID"]!));
        Assert.Null(answer["errors"]);
    }

    [Theory]
    [InlineData("start=abc", "unable to parse param 'start': strconv.ParseInt: parsing \"abc\": invalid syntax")]
    [InlineData("service=a&end=1.5", "unable to parse param 'end': strconv.ParseInt: parsing \"1.5\": invalid syntax")]
    [InlineData("service=a&end=99999999999999999999", "unable to parse param 'end': strconv.ParseInt: parsing \"99999999999999999999\": value out of range")]
    [InlineData("service=a&limit=abc", "strconv.ParseInt: parsing \"abc\": invalid syntax")]
    [InlineData("service=a&limit=3000000000", "strconv.ParseInt: parsing \"3000000000\": value out of range")]
    [InlineData("service=a&limit=0", "invalid parameter: limit must be greater than 0")]
    [InlineData("service=a&limit=-5", "invalid parameter: limit must be greater than 0")]
    [InlineData("service=a&minDuration=abc", "unable to parse param 'minDuration': time: invalid duration \"abc\"")]
    [InlineData("service=a&minDuration=10", "unable to parse param 'minDuration': time: missing unit in duration \"10\"")]
    [InlineData("service=a&maxDuration=5x", "unable to parse param 'maxDuration': time: unknown unit \"x\" in duration \"5x\"")]
    [InlineData("service=a&maxDuration=1.2.3s", "unable to parse param 'maxDuration': time: missing unit in duration \"1.2.3s\"")]
    [InlineData("service=a&maxDuration=1%C2%B5x", "unable to parse param 'maxDuration': time: unknown unit \"\\xc2\\xb5x\" in duration \"1\\xc2\\xb5x\"")]
    [InlineData("service=a&minDuration=2s&maxDuration=1s", "'maxDuration' should be greater than 'minDuration'")]
    [InlineData("service=a&start=2000&end=1000", "invalid parameter: start time must be before end time")]
    [InlineData("operation=a", "parameter 'service' is required")]
    [InlineData("service=a&tag=foo", "malformed 'tag' parameter, expecting key:value, received: foo")]
    [InlineData("service=a&tags=%7Bfoo:bar%7D", "malformed 'tags' parameter, cannot unmarshal JSON: invalid character 'f' looking for beginning of object key string")]
    [InlineData("service=a&tags=%7B%22a%22%3A%22b%22", "malformed 'tags' parameter, cannot unmarshal JSON: unexpected end of JSON input")]
    [InlineData("service=a&tags=%5B1%5D", "malformed 'tags' parameter, cannot unmarshal JSON: json: cannot unmarshal array into Go value of type map[string]string")]
    [InlineData("service=a&tags=%7B%22a%22%3A1%7D", "malformed 'tags' parameter, cannot unmarshal JSON: json: cannot unmarshal number into Go struct field .a of type string")]
    [InlineData("service=a&tags=%7B%22a%22%3Atru%7D", "malformed 'tags' parameter, cannot unmarshal JSON: invalid character '}' in literal true (expecting 'e')")]
    [InlineData("service=a&traceID=xyz", "cannot parse traceID param: strconv.ParseUint: parsing \"xyz\": invalid syntax")]
    [InlineData("traceID=", "cannot parse traceID param: strconv.ParseUint: parsing \"\": invalid syntax")]
    [InlineData("service=a&raw=maybe", "unable to parse param 'raw': strconv.ParseBool: parsing \"maybe\": invalid syntax")]
    public async Task Bad_search_parameters_are_400_with_jaegers_message(string query, string message)
    {
        await AssertJaegerErrorAsync("/api/traces?" + query, HttpStatusCode.BadRequest, message);
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task Dependencies_list_calls_between_services_in_the_window()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);
        var endTs = CheckoutTrace.Start.AddMinutes(1).ToUnixTimeMilliseconds();

        AssertJson(
            """
            {"data":[{"parent":"gateway","child":"orders","callCount":1},{"parent":"orders","child":"payments","callCount":1}],
            "total":0,"limit":0,"offset":0,"errors":null}
            """,
            (await GetAsync($"/api/dependencies?endTs={endTs}&lookback=120000")).Body);
        AssertJson(
            """{"data":[{"parent":"orders","child":"payments","callCount":1}],"total":0,"limit":0,"offset":0,"errors":null}""",
            (await GetAsync($"/api/dependencies?endTs={endTs}&lookback=120000&service=payments")).Body);
        AssertJson(
            """{"data":[],"total":0,"limit":0,"offset":0,"errors":null}""",
            (await GetAsync($"/api/dependencies?endTs={CheckoutTrace.Start.AddMinutes(-1).ToUnixTimeMilliseconds()}&lookback=60000")).Body);
        AssertJson("""{"data":[],"total":0,"limit":0,"offset":0,"errors":null}""", (await GetAsync("/api/dependencies")).Body);
    }

    [Theory]
    [InlineData("endTs=now", "unable to parse param 'endTs': strconv.ParseInt: parsing \"now\": invalid syntax")]
    [InlineData("lookback=1h", "unable to parse param 'lookback': strconv.ParseInt: parsing \"1h\": invalid syntax")]
    public async Task Bad_dependency_parameters_are_400_with_jaegers_message(string query, string message)
    {
        await AssertJaegerErrorAsync("/api/dependencies?" + query, HttpStatusCode.BadRequest, message);
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task A_tenant_sees_only_its_own_traces_and_an_invalid_tenant_is_refused()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        Assert.Single((await GetJsonAsync($"/api/traces?service=orders&{Window}"))["data"]!.AsArray());
        Assert.Empty((await GetJsonAsync($"/api/traces?service=orders&{Window}", tenant: _tenant + "-b"))["data"]!.AsArray());
        using var tempo = new HttpRequestMessage(HttpMethod.Get, "/api/services");
        tempo.Headers.Add("X-Scope-OrgID", _tenant);
        Assert.Contains("payments", await (await fixture.Query.SendAsync(tempo)).Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await AssertJaegerErrorAsync(
            "/api/services",
            HttpStatusCode.BadRequest,
            "invalid tenant in the x-tenant or X-Scope-OrgID header: use 1 to 64 letters, digits, '-', '_' or '.'",
            tenant: "no spaces allowed");
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task Pretty_print_indents_by_four_spaces()
    {
        await Store.AppendAsync(_tenant, CheckoutTrace.Spans(), default);

        var (_, body, _) = await GetAsync("/api/services?prettyPrint=true");

        Assert.StartsWith("{\n    \"data\": [\n        \"gateway\",", body.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("\n", (await GetAsync("/api/services?prettyPrint=false")).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_api_answers_only_on_the_query_listener()
    {
        using var otlp = fixture.CreateClient(Listener.OtlpHttp);
        Assert.Equal(HttpStatusCode.NotFound, (await otlp.GetAsync("/api/services")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await otlp.GetAsync("/api/v3/services")).StatusCode);
    }

    internal static long Micros(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks / 10;

    private static string Hex(TraceId id) => id.ToHex();

    private static void AssertJson(string expected, string actual)
    {
        var e = JsonNode.Parse(expected);
        var a = JsonNode.Parse(actual);
        Assert.True(JsonNode.DeepEquals(e, a), $"Expected {e!.ToJsonString()}\nActual   {a!.ToJsonString()}");
    }

    private async Task<string[]> SearchIdsAsync(string query) =>
        [.. (await GetJsonAsync("/api/traces?" + query))["data"]!.AsArray().Select(t => (string)t!["traceID"]!)];

    private Task<JsonNode> GetJsonAsync(string url, string? tenant = null) => new TenantQuery(fixture.Query, _tenant).GetJsonAsync(url, tenant);

    private Task<(HttpStatusCode Status, string Body, string? ContentType)> GetAsync(string url, string? tenant = null) =>
        new TenantQuery(fixture.Query, _tenant).GetAsync(url, tenant);

    private async Task AssertJaegerErrorAsync(string url, HttpStatusCode status, string message, string? tenant = null)
    {
        var (actualStatus, body, contentType) = await GetAsync(url, tenant);
        Assert.Equal(status, actualStatus);
        Assert.Equal("text/plain; charset=utf-8", contentType);
        Assert.EndsWith("}\n", body, StringComparison.Ordinal);
        var expected = new JsonObject
        {
            ["data"] = null,
            ["total"] = 0,
            ["limit"] = 0,
            ["offset"] = 0,
            ["errors"] = new JsonArray(new JsonObject { ["code"] = (int)status, ["msg"] = message }),
        };
        var actual = JsonNode.Parse(body);
        Assert.True(JsonNode.DeepEquals(expected, actual), $"Expected {expected.ToJsonString()}\nActual   {actual!.ToJsonString()}");
    }

    private async Task AssertServerStillServesAsync() =>
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/api/services")).Status);
}
