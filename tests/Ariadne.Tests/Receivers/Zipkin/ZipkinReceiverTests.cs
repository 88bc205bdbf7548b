using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Tests.Infrastructure;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SpanKind = Ariadne.Model.SpanKind;
using StatusCode = Ariadne.Model.StatusCode;

namespace Ariadne.Tests.Receivers.Zipkin;

/// <summary>A server with a small body limit, so the 413 cases need no huge payloads.</summary>
public sealed class ZipkinServerFixture : ServerFixture
{
    public const int MaxRequestBytes = 64 * 1024;

    protected override void Configure(AriadneOptions options) => options.Ingest.MaxRequestBytes = MaxRequestBytes;
}

public sealed class ZipkinReceiverTests(ZipkinServerFixture fixture) : IClassFixture<ZipkinServerFixture>, IDisposable
{
    private static readonly TraceId s_checkoutTrace = Parse("5af7183fb1d4cf5f2c1a6e0b9d3e7a41");
    private static readonly TraceId s_legacyTrace = Parse("463ac35c9f6413ad");

    private readonly HttpClient _zipkin = fixture.CreateClient(Listener.Zipkin);

    private ISpanStore Store => fixture.Server.Services.GetRequiredService<ISpanStore>();

    public void Dispose() => _zipkin.Dispose();

    [Fact]
    public async Task Checkout_trace_is_stored_with_services_kinds_endpoints_errors_and_annotations_mapped()
    {
        var response = await PostAsync(Fixture("checkout-trace.json"), "application/json", tenant: "checkout");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());

        var spans = await Store.GetTraceAsync("checkout", s_checkoutTrace, CancellationToken.None);
        Assert.Equal(8, spans.Count);
        Assert.Equal(["gateway", "notifications", "orders", "payments"], spans.Select(s => s.ServiceName).Distinct().Order(StringComparer.Ordinal));
        Assert.All(spans, s => Assert.Equal(s.ServiceName, Attribute(s.Resource.Attributes, "service.name")));
        Assert.Same(Find(spans, "gateway", SpanKind.Server).Resource, Find(spans, "gateway", SpanKind.Client).Resource);

        var root = Find(spans, "gateway", SpanKind.Server);
        Assert.True(root.IsRoot);
        Assert.Equal("post /api/checkout", root.Name);
        Assert.Equal(1_750_000_000_000_000_000L, root.StartTimeUnixNano);
        Assert.Equal(182_000_000L, root.DurationNanos);
        Assert.Equal(StatusCode.Unset, root.StatusCode);
        Assert.Equal("POST", Attribute(root, "http.method"));
        Assert.Equal("402", Attribute(root, "http.status_code"));
        Assert.Equal("gold", Attribute(root, "customer.tier"));
        Assert.Equal("10.0.1.10", Attribute(root, "net.host.ip"));
        Assert.Equal(AnyValue.FromInt(8080), Value(root, "net.host.port"));
        Assert.Equal("203.0.113.7", Attribute(root, "net.peer.ip"));
        Assert.Equal(AnyValue.FromInt(51234), Value(root, "net.peer.port"));
        Assert.Equal(AnyValue.FromBool(true), Value(root, "zipkin.debug"));

        // The shared server span reuses its client's id: both halves are kept, as Jaeger keeps them.
        var client = Find(spans, "gateway", SpanKind.Client);
        var shared = Find(spans, "orders", SpanKind.Server);
        Assert.Equal(client.SpanId, shared.SpanId);
        Assert.Equal(root.SpanId, shared.ParentSpanId);
        Assert.Equal("orders", Attribute(client, "peer.service"));
        Assert.Equal(["ws", "wr"], client.Events.Select(e => e.Name));
        Assert.Equal(1_750_000_000_002_100_000L, client.Events[0].TimeUnixNano);
        Assert.Equal("OpenTelemetry.Instrumentation.AspNetCore", shared.Scope.Name);
        Assert.Equal("1.12.0", shared.Scope.Version);
        Assert.DoesNotContain(shared.Attributes, a => a.Key.StartsWith("otel.library", StringComparison.Ordinal));

        var local = spans.Single(s => s.Name == "select orders");
        Assert.Equal(SpanKind.Unspecified, local.Kind);
        Assert.Equal("3", Attribute(local, "db.rows_affected"));
        Assert.Equal("cache miss", Assert.Single(local.Events).Name);

        // Any error tag marks the failure; a value other than "true" stays a string tag, and is not the message
        // (the Collector's zipkinv2 translator, as Jaeger v2 runs it).
        var charge = Find(spans, "orders", SpanKind.Client);
        Assert.Equal(StatusCode.Error, charge.StatusCode);
        Assert.Equal(string.Empty, charge.StatusMessage);
        Assert.Equal(string.Empty, Attribute(charge, "error"));
        Assert.Equal("2001:db8::15", Attribute(charge, "net.peer.ip"));
        Assert.Equal("payments", Attribute(charge, "peer.service"));
        var payment = Find(spans, "payments", SpanKind.Server);
        Assert.Equal(StatusCode.Error, payment.StatusCode);
        Assert.Equal(string.Empty, payment.StatusMessage);
        Assert.Equal("card declined", Attribute(payment, "error"));
        Assert.Equal(charge.SpanId, payment.ParentSpanId);

        var producer = Find(spans, "orders", SpanKind.Producer);
        var consumer = Find(spans, "notifications", SpanKind.Consumer);
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
        Assert.Equal("rabbitmq", Attribute(consumer, "peer.service"));
        Assert.Equal("congo=t61rcWkgMzE", consumer.TraceState);
        Assert.DoesNotContain(consumer.Attributes, a => a.Key == "w3c.tracestate");
    }

    [Fact]
    public async Task Error_and_status_tags_map_as_the_collectors_zipkinv2_translator_maps_them()
    {
        var response = await PostAsync(Fixture("error-tags.json"), "application/json", tenant: "error-tags");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var spans = await Store.GetTraceAsync("error-tags", Parse("e4404e5a9c1d7b3f00000000000000e1"), CancellationToken.None);

        var mapped = new System.Text.Json.Nodes.JsonArray([.. spans.OrderBy(s => s.SpanId.ToHex(), StringComparer.Ordinal).Select(span => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
        {
            ["name"] = span.Name,
            ["status"] = new System.Text.Json.Nodes.JsonObject { ["code"] = span.StatusCode.ToString(), ["message"] = span.StatusMessage },
            ["attributes"] = new System.Text.Json.Nodes.JsonObject(span.Attributes
                .Where(a => !a.Key.StartsWith("net.", StringComparison.Ordinal))
                .Select(a => KeyValuePair.Create(a.Key, (System.Text.Json.Nodes.JsonNode?)a.Value.ToString()))),
        })]);
        Ariadne.Tests.Query.Golden.AssertMatches("zipkin-error-tags.json", mapped.ToJsonString());
    }

    [Fact]
    public async Task Shared_span_reads_back_through_the_jaeger_api_with_its_own_id_under_the_client_span()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(Fixture("checkout-trace.json"), "application/json", tenant: "jaeger-read")).StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/traces/{s_checkoutTrace}");
        request.Headers.Add("x-tenant", "jaeger-read");
        using var response = await fixture.Query.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var trace = json.RootElement.GetProperty("data")[0];
        var spans = trace.GetProperty("spans").EnumerateArray().ToList();
        var processes = trace.GetProperty("processes");
        string Service(System.Text.Json.JsonElement span) => processes.GetProperty(span.GetProperty("processID").GetString()!).GetProperty("serviceName").GetString()!;
        string? Tag(System.Text.Json.JsonElement span, string key) =>
            span.GetProperty("tags").EnumerateArray().Where(t => t.GetProperty("key").GetString() == key).Select(t => t.GetProperty("value").GetRawText().Trim('"')).FirstOrDefault();

        // Jaeger's SpanIDUniquifier: the server half gets a fresh id and the client half becomes its parent.
        Assert.Equal(8, spans.Count);
        Assert.Equal(8, spans.Select(s => s.GetProperty("spanID").GetString()).Distinct().Count());
        var client = spans.Single(s => Service(s) == "gateway" && Tag(s, "span.kind") == "client");
        var server = spans.Single(s => Service(s) == "orders" && Tag(s, "span.kind") == "server");
        Assert.Equal("b2c3d4e5f6071829", client.GetProperty("spanID").GetString());
        Assert.NotEqual("b2c3d4e5f6071829", server.GetProperty("spanID").GetString());
        var parent = server.GetProperty("references").EnumerateArray().Single(r => r.GetProperty("refType").GetString() == "CHILD_OF");
        Assert.Equal("b2c3d4e5f6071829", parent.GetProperty("spanID").GetString());

        var payment = spans.Single(s => Service(s) == "payments");
        var errorTags = payment.GetProperty("tags").EnumerateArray().Where(t => t.GetProperty("key").GetString() == "error").Select(t => t.GetProperty("value").ToString());
        Assert.Equal(["card declined", "True"], errorTags);
        Assert.Equal("fraud.check.timeout", payment.GetProperty("logs")[0].GetProperty("fields").EnumerateArray()
            .Single(f => f.GetProperty("key").GetString() == "event").GetProperty("value").GetString());
    }

    [Fact]
    public async Task Legacy_64_bit_ids_status_tags_missing_timestamps_and_unknown_fields_are_handled()
    {
        // With a byte-order mark in front, as some tools write JSON files.
        var response = await PostAsync([0xEF, 0xBB, 0xBF, .. Fixture("legacy-64bit-trace.json")], "application/json; charset=utf-8", tenant: "legacy");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var spans = await Store.GetTraceAsync("legacy", s_legacyTrace, CancellationToken.None);
        Assert.Equal(2, spans.Count);
        Assert.Equal(new TraceId(0, 0x463ac35c9f6413ad), spans[0].TraceId);

        var server = spans.Single(s => s.Kind == SpanKind.Server);
        Assert.True(server.IsRoot);
        Assert.Equal(StatusCode.Error, server.StatusCode);
        Assert.Equal("upstream timeout", server.StatusMessage);
        Assert.DoesNotContain(server.Attributes, a => a.Key.StartsWith("otel.status", StringComparison.Ordinal) || a.Key == "error");

        var late = spans.Single(s => s.Kind == SpanKind.Client);
        Assert.Equal(server.SpanId, late.ParentSpanId);
        Assert.Equal(0, late.StartTimeUnixNano);
        Assert.Equal(38_000_000L, late.DurationNanos);
        Assert.Equal(AnyValue.FromBool(true), Value(late, "otel.zipkin.absentField.startTime"));
        Assert.Equal("6000", Attribute(late, "net.peer.port"));
        Assert.Equal("inventory", Attribute(late, "peer.service"));
    }

    [Fact]
    public async Task Proto3_and_gzip_bodies_map_to_the_same_spans_as_plain_json()
    {
        var json = Fixture("checkout-trace.json");
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(json, "application/json", tenant: "as-json")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(ZipkinProtoWriter.Encode(Encoding.UTF8.GetString(json)), "application/x-protobuf", tenant: "as-proto")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(Gzip(json), "application/json", encoding: "gzip", tenant: "as-gzip")).StatusCode);

        var expected = Describe(await Store.GetTraceAsync("as-json", s_checkoutTrace, CancellationToken.None));
        Assert.Equal(8, expected.Count);
        Assert.Equal(expected, Describe(await Store.GetTraceAsync("as-proto", s_checkoutTrace, CancellationToken.None)));
        Assert.Equal(expected, Describe(await Store.GetTraceAsync("as-gzip", s_checkoutTrace, CancellationToken.None)));
    }

    [Theory]
    [InlineData("5af7183fb1d4cf5f2c1a6e0b9d3e7a4", "a1b2c3d4e5f60718", null, "traceId '5af7183fb1d4cf5f2c1a6e0b9d3e7a4' must be 16 or 32 hex characters")]
    [InlineData("5af7183fb1d4cf5f2c1a6e0b9d3e7a4g", "a1b2c3d4e5f60718", null, "must be 16 or 32 hex characters")]
    [InlineData("5af7183fb1d4cf5f", "a1b2c3d4e5f6071", null, "id 'a1b2c3d4e5f6071' must be 16 hex characters")]
    [InlineData("5af7183fb1d4cf5f", "a1b2c3d4e5f60718", "xyz", "parentId 'xyz' must be 16 hex characters")]
    [InlineData("5af7183fb1d4cf5f", "0000000000000000", null, "must not be all zero")]
    [InlineData("00000000000000000000000000000000", "a1b2c3d4e5f60718", null, "must not be all zero")]
    public async Task Span_with_an_invalid_id_is_rejected_alone_and_the_rest_are_stored(string traceId, string id, string? parentId, string reason)
    {
        var tenant = $"ids-{Guid.NewGuid():N}"[..20];
        var parent = parentId is null ? string.Empty : $"\"parentId\":\"{parentId}\",";
        var body = $$"""
            [
              {"traceId":"{{traceId}}",{{parent}}"id":"{{id}}","name":"bad","localEndpoint":{"serviceName":"orders"},"timestamp":1750000000000000,"duration":5},
              {"traceId":"aaaaaaaaaaaaaaaa","id":"bbbbbbbbbbbbbbbb","name":"good","localEndpoint":{"serviceName":"orders"},"timestamp":1750000000000000,"duration":5}
            ]
            """;
        var response = await PostAsync(Encoding.UTF8.GetBytes(body), "application/json", tenant: tenant);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var message = await response.Content.ReadAsStringAsync();
        Assert.Contains("accepted 1 spans, rejected 1", message, StringComparison.Ordinal);
        Assert.Contains(reason, message, StringComparison.Ordinal);
        Assert.Single(await Store.GetTraceAsync(tenant, Parse("aaaaaaaaaaaaaaaa"), CancellationToken.None));
    }

    [Fact]
    public async Task Span_with_an_unknown_kind_or_no_id_is_rejected_alone()
    {
        var body = """
            [
              {"traceId":"cccccccccccccccc","id":"0000000000000001","kind":"SERVERLESS","name":"bad kind"},
              {"traceId":"cccccccccccccccc","name":"no id"},
              {"traceId":"cccccccccccccccc","id":"0000000000000003","kind":"CONSUMER","name":"good"}
            ]
            """;
        var response = await PostAsync(Encoding.UTF8.GetBytes(body), "application/json", tenant: "kinds");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var message = await response.Content.ReadAsStringAsync();
        Assert.Contains("accepted 1 spans, rejected 2", message, StringComparison.Ordinal);
        Assert.Contains("kind 'SERVERLESS' must be one of CLIENT, SERVER, PRODUCER, CONSUMER", message, StringComparison.Ordinal);
        var stored = Assert.Single(await Store.GetTraceAsync("kinds", Parse("cccccccccccccccc"), CancellationToken.None));
        Assert.Equal(SpanKind.Consumer, stored.Kind);
        Assert.Equal(Model.Resource.UnknownService, stored.ServiceName);
    }

    [Theory]
    [InlineData("[{\"traceId\":\"5af7183fb1d4cf5f\",", "not valid Zipkin v2 JSON")]
    [InlineData("{\"traceId\":\"5af7183fb1d4cf5f\",\"id\":\"5af7183fb1d4cf5f\"}", "must be a JSON array")]
    [InlineData("[1, 2]", "span [0] must be a JSON object, not a number")]
    [InlineData("[{\"traceId\":\"5af7183fb1d4cf5f\",\"id\":\"5af7183fb1d4cf5f\",\"timestamp\":\"yesterday\"}]", "span [0]: 'timestamp' must be a non-negative integer of microseconds, not a string")]
    [InlineData("[{\"traceId\":\"5af7183fb1d4cf5f\",\"id\":\"5af7183fb1d4cf5f\",\"tags\":{\"a\":{\"b\":1}}}]", "span [0]: 'tags.a' must be a string, not an object")]
    [InlineData("[{\"traceId\":\"5af7183fb1d4cf5f\",\"id\":\"5af7183fb1d4cf5f\",\"localEndpoint\":\"orders\"}]", "'localEndpoint' must be an object")]
    [InlineData("[] trailing", "not valid Zipkin v2 JSON")]
    [InlineData("", "not valid Zipkin v2 JSON")]
    public async Task Malformed_json_is_a_400_with_a_message_and_the_server_keeps_serving(string body, string message)
    {
        var response = await PostAsync(Encoding.UTF8.GetBytes(body), "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertServesAGoodRequestAsync();
    }

    // What a mutation fuzzer found answered with 500 and an empty body: Utf8JsonReader checks a string's UTF-8 and
    // its \u escapes only when the string is read, and throws InvalidOperationException. "INVALID" stands for the
    // bytes C3 28, which are not UTF-8.
    [Theory]
    [InlineData("\"name\":\"\\ud800\"", "'name' is not valid text")]
    [InlineData("\"name\":\"a\\udc00b\"", "'name' is not valid text")]
    [InlineData("\"tags\":{\"k\":\"\\ud83d\"}", "'tags.k' is not valid text")]
    [InlineData("\"tags\":{\"\\udfff\":\"v\"}", "'tags' is not valid text")]
    [InlineData("\"kind\":\"\\ud800\"", "'kind' is not valid text")]
    [InlineData("\"localEndpoint\":{\"serviceName\":\"\\ud800\"}", "'localEndpoint.serviceName' is not valid text")]
    [InlineData("\"annotations\":[{\"timestamp\":1,\"value\":\"\\udbff\"}]", "'annotations[].value' is not valid text")]
    [InlineData("\"name\":\"INVALID\"", "'name' is not valid text")]
    [InlineData("\"tags\":{\"k\":\"xINVALID\"}", "'tags.k' is not valid text")]
    [InlineData("\"tags\":{\"INVALID\":\"v\"}", "'tags' is not valid text")]
    [InlineData("\"parentId\":\"INVALID\"", "'parentId' is not valid text")]
    [InlineData("\"na\\udc00\\ud800me\":\"x\"", "'a property name' is not valid text")] // found by DecoderFuzzTests
    [InlineData("\"localEndpoint\":{\"\\ud800\":\"x\"}", "'localEndpoint' is not valid text")]
    public async Task Invalid_utf8_or_a_lone_surrogate_is_a_400_with_a_message_and_the_server_keeps_serving(string field, string message)
    {
        var json = Encoding.UTF8.GetBytes($"[{{\"traceId\":\"5af7183fb1d4cf5f\",\"id\":\"5af7183fb1d4cf5f\",{field}}}]");
        var body = ReplaceInvalid(json);

        var response = await PostAsync(body, "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertServesAGoodRequestAsync();
    }

    [Fact]
    public async Task Malformed_protobuf_and_gzip_are_400s_and_the_server_keeps_serving()
    {
        var proto = ZipkinProtoWriter.Encode(Encoding.UTF8.GetString(Fixture("checkout-trace.json")));
        var truncated = await PostAsync(proto[..(proto.Length / 2)], "application/x-protobuf");
        Assert.Equal(HttpStatusCode.BadRequest, truncated.StatusCode);
        Assert.Contains("not a valid zipkin.proto3.ListOfSpans", await truncated.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertServesAGoodRequestAsync();

        // A proto3 string must be valid UTF-8: refused, not stored with replacement characters.
        var invalidUtf8 = proto.ToArray();
        invalidUtf8[invalidUtf8.AsSpan().IndexOf("gateway"u8) + 1] = 0xFF;
        var badText = await PostAsync(invalidUtf8, "application/x-protobuf");
        Assert.Equal(HttpStatusCode.BadRequest, badText.StatusCode);
        Assert.Contains("invalid UTF-8", await badText.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertServesAGoodRequestAsync();

        var notGzip = await PostAsync(Fixture("checkout-trace.json"), "application/json", encoding: "gzip");
        Assert.Equal(HttpStatusCode.BadRequest, notGzip.StatusCode);
        Assert.Contains("not valid gzip", await notGzip.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertServesAGoodRequestAsync();
    }

    [Fact]
    public async Task Body_over_the_limit_is_a_413_before_and_after_decompression()
    {
        var big = ManySpans(ZipkinServerFixture.MaxRequestBytes / 100);
        Assert.True(big.Length > ZipkinServerFixture.MaxRequestBytes);

        var plain = await PostAsync(big, "application/json");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, plain.StatusCode);
        await AssertServesAGoodRequestAsync();

        // Compresses far below the limit but inflates past it: the gzip-bomb guard.
        var bomb = Gzip(big);
        Assert.True(bomb.Length < ZipkinServerFixture.MaxRequestBytes);
        var inflated = await PostAsync(bomb, "application/json", encoding: "gzip");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, inflated.StatusCode);
        Assert.Contains("after decompression", await inflated.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertServesAGoodRequestAsync();
    }

    [Theory]
    [InlineData("text/plain", null)]
    [InlineData("application/x-www-form-urlencoded", null)]
    [InlineData("application/x-thrift", null)]
    [InlineData("application/json", "br")]
    public async Task Unsupported_content_type_or_encoding_is_a_415(string contentType, string? encoding)
    {
        var response = await PostAsync(Fixture("checkout-trace.json"), contentType, encoding);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains(encoding is null ? "application/json" : "gzip", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertServesAGoodRequestAsync();
    }

    [Fact]
    public async Task Bad_tenant_header_is_a_400_and_spans_are_only_visible_to_their_tenant()
    {
        var bad = await PostAsync(Fixture("legacy-64bit-trace.json"), "application/json", tenant: "no spaces allowed");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("x-tenant", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(Fixture("legacy-64bit-trace.json"), "application/json", tenant: "tenant-a")).StatusCode);
        Assert.Equal(2, (await Store.GetTraceAsync("tenant-a", s_legacyTrace, CancellationToken.None)).Count);
        Assert.Empty(await Store.GetTraceAsync("tenant-b", s_legacyTrace, CancellationToken.None));
    }

    [Fact]
    public async Task Zipkin_is_served_only_on_the_zipkin_listener_and_counted_in_metrics()
    {
        using var otlp = fixture.CreateClient(Listener.OtlpHttp);
        using var content = new ByteArrayContent(Fixture("checkout-trace.json"));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        Assert.Equal(HttpStatusCode.NotFound, (await otlp.PostAsync("/api/v2/spans", content)).StatusCode);

        await AssertServesAGoodRequestAsync();
        var metrics = await fixture.Query.GetStringAsync("/metrics");
        Assert.Contains("ariadne_spans_accepted_total{protocol=\"zipkin\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenTelemetry_dotnet_zipkin_exporter_traces_arrive_with_kinds_status_and_attributes()
    {
        using var source = new ActivitySource($"Ariadne.Tests.Zipkin.{Guid.NewGuid():N}");
        // The OpenTelemetry Zipkin exporter is deprecated upstream, but services still ship with it: that is the client to be compatible with.
#pragma warning disable CS0618
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(source.Name)
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService("checkout-api"))
            .AddZipkinExporter(o => o.Endpoint = new Uri(fixture.Server.GetUri(Listener.Zipkin), "/api/v2/spans"))
            .Build();
#pragma warning restore CS0618

        TraceId traceId;
        SpanId serverId, clientId;
        using (var server = source.StartActivity("POST /checkout", ActivityKind.Server)!)
        {
            server.SetTag("http.request.method", "POST");
            server.SetTag("order.id", "o-991");
            server.SetTag("order.items", 3);
            traceId = Parse(server.TraceId.ToHexString());
            serverId = new SpanId(Convert.ToUInt64(server.SpanId.ToHexString(), 16));
            using var client = source.StartActivity("charge card", ActivityKind.Client)!;
            client.SetTag("rpc.system", "grpc");
            client.AddEvent(new ActivityEvent("retrying"));
            client.SetStatus(ActivityStatusCode.Error, "card declined");
            clientId = new SpanId(Convert.ToUInt64(client.SpanId.ToHexString(), 16));
        }

        Assert.True(provider.ForceFlush(10_000));
        var spans = await Store.GetTraceAsync("default", traceId, CancellationToken.None);

        Assert.Equal(2, spans.Count);
        var serverSpan = spans.Single(s => s.SpanId == serverId);
        Assert.Equal("checkout-api", serverSpan.ServiceName);
        Assert.Equal(SpanKind.Server, serverSpan.Kind);
        Assert.Equal("POST /checkout", serverSpan.Name);
        Assert.Equal("o-991", Attribute(serverSpan, "order.id"));
        Assert.Equal("3", Attribute(serverSpan, "order.items"));
        Assert.Equal(source.Name, serverSpan.Scope.Name);

        var clientSpan = spans.Single(s => s.SpanId == clientId);
        Assert.Equal(SpanKind.Client, clientSpan.Kind);
        Assert.Equal(serverId, clientSpan.ParentSpanId);
        Assert.Equal(StatusCode.Error, clientSpan.StatusCode);
        Assert.Equal("card declined", Attribute(clientSpan, "error"));
        Assert.Equal("retrying", Assert.Single(clientSpan.Events).Name);
        Assert.True(clientSpan.DurationNanos > 0);
    }

    private async Task AssertServesAGoodRequestAsync()
    {
        var tenant = $"good-{Guid.NewGuid():N}"[..20];
        var response = await PostAsync(Fixture("legacy-64bit-trace.json"), "application/json", tenant: tenant);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(2, (await Store.GetTraceAsync(tenant, s_legacyTrace, CancellationToken.None)).Count);
    }

    private async Task<HttpResponseMessage> PostAsync(byte[] body, string contentType, string? encoding = null, string? tenant = null)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/spans") { Content = content };
        if (tenant is not null)
        {
            request.Headers.TryAddWithoutValidation("x-tenant", tenant);
        }

        var response = await _zipkin.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static byte[] ReplaceInvalid(byte[] json)
    {
        var marker = "INVALID"u8;
        var at = json.AsSpan().IndexOf(marker);
        return at < 0 ? json : [.. json[..at], 0xC3, 0x28, .. json[(at + marker.Length)..]];
    }

    private static byte[] Fixture(string name) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Receivers", "Zipkin", "Fixtures", name));

    private static byte[] ManySpans(int count)
    {
        var builder = new StringBuilder("[");
        for (var i = 0; i < count; i++)
        {
            builder.Append(i == 0 ? string.Empty : ",")
                .Append("{\"traceId\":\"5af7183fb1d4cf5f\",\"id\":\"").Append((i + 1).ToString("x16", System.Globalization.CultureInfo.InvariantCulture))
                .Append("\",\"name\":\"get /x\",\"localEndpoint\":{\"serviceName\":\"catalog\"}}");
        }

        return Encoding.UTF8.GetBytes(builder.Append(']').ToString());
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static TraceId Parse(string hex) => TraceId.TryParseHex(hex, out var id) ? id : throw new ArgumentException(hex);

    private static Span Find(IReadOnlyList<Span> spans, string service, SpanKind kind) =>
        spans.Single(s => s.ServiceName == service && s.Kind == kind);

    private static AnyValue Value(Span span, string key) =>
        span.TryGetAttribute(key, out var value) ? value : throw new Xunit.Sdk.XunitException($"span '{span.Name}' has no attribute {key}");

    private static string Attribute(Span span, string key) => Value(span, key).ToString();

    private static string Attribute(KeyValue[] attributes, string key) => attributes.Single(a => a.Key == key).Value.ToString();

    /// <summary>Every mapped field of every span, in a stable order, for comparing two ingest paths.</summary>
    private static List<string> Describe(IReadOnlyList<Span> spans) => spans
        .Select(s => string.Join('|',
            s.TraceId, s.SpanId, s.ParentSpanId, s.Name, s.Kind, s.StartTimeUnixNano, s.EndTimeUnixNano, s.ServiceName,
            s.StatusCode, s.StatusMessage, s.TraceState, s.Flags, s.Scope.Name, s.Scope.Version,
            string.Join(',', s.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value.Type}:{a.Value}")),
            string.Join(',', s.Events.Select(e => $"{e.TimeUnixNano}:{e.Name}"))))
        .Order(StringComparer.Ordinal)
        .ToList();
}
