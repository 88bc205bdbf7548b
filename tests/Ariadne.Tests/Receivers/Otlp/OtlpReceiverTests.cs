using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SpanKind = Ariadne.Model.SpanKind;
using StatusCode = Ariadne.Model.StatusCode;

namespace Ariadne.Tests.Receivers.Otlp;

/// <summary>
/// The OTLP receivers end to end: the real OpenTelemetry .NET SDK, a generated gRPC client and raw HTTP send to the
/// real server, and what arrives is read back from its span store.
/// </summary>
public sealed class OtlpReceiverTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task Traces_from_the_OpenTelemetry_SDK_are_stored_with_parents_attributes_events_status_and_resource(OtlpExportProtocol protocol)
    {
        var tenant = $"sdk-{protocol}".ToLowerInvariant();
        using var source = new ActivitySource($"Ariadne.Tests.{protocol}");
        ActivityTraceId traceId;
        ActivitySpanId rootId;
        ActivitySpanId childId;
        using (var tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty()
                .AddService("checkout", serviceVersion: "1.4.2")
                .AddAttributes([new("deployment.environment", "test")]))
            .AddSource(source.Name)
            .AddOtlpExporter(otlp => ConfigureExporter(otlp, protocol, "/v1/traces", tenant))
            .Build())
        {
            using (var root = source.StartActivity("POST /checkout", ActivityKind.Server)!)
            {
                root.SetTag("http.request.method", "POST");
                root.SetTag("http.response.status_code", 500);
                root.SetTag("order.value", 99.5);
                root.SetTag("customer.vip", true);
                root.SetTag("cart.items", new[] { "book", "pen" });
                root.AddEvent(new ActivityEvent("payment declined", tags: new ActivityTagsCollection { ["payment.attempt"] = 2 }));
                root.SetStatus(ActivityStatusCode.Error, "card declined");
                using (var child = source.StartActivity("SELECT orders", ActivityKind.Client)!)
                {
                    child.SetTag("db.system", "sqlite");
                    childId = child.SpanId;
                }

                traceId = root.TraceId;
                rootId = root.SpanId;
            }

            Assert.True(tracing.ForceFlush());
        }

        var spans = await GetTraceAsync(tenant, traceId);

        Assert.Equal(2, spans.Count);
        var rootSpan = spans.Single(s => s.SpanId.ToHex() == rootId.ToHexString());
        var childSpan = spans.Single(s => s.SpanId.ToHex() == childId.ToHexString());
        Assert.True(rootSpan.IsRoot);
        Assert.Equal(rootSpan.SpanId, childSpan.ParentSpanId);
        Assert.Equal("POST /checkout", rootSpan.Name);
        Assert.Equal(SpanKind.Server, rootSpan.Kind);
        Assert.Equal(SpanKind.Client, childSpan.Kind);
        Assert.True(rootSpan.EndTimeUnixNano >= rootSpan.StartTimeUnixNano && rootSpan.StartTimeUnixNano > 0);
        Assert.Equal(AnyValue.FromString("POST"), Attribute(rootSpan, "http.request.method"));
        Assert.Equal(AnyValue.FromInt(500), Attribute(rootSpan, "http.response.status_code"));
        Assert.Equal(AnyValue.FromDouble(99.5), Attribute(rootSpan, "order.value"));
        Assert.Equal(AnyValue.FromBool(true), Attribute(rootSpan, "customer.vip"));
        Assert.Equal(AnyValue.FromArray([AnyValue.FromString("book"), AnyValue.FromString("pen")]), Attribute(rootSpan, "cart.items"));
        var declined = Assert.Single(rootSpan.Events);
        Assert.Equal("payment declined", declined.Name);
        Assert.Equal(KeyValue.Int("payment.attempt", 2), Assert.Single(declined.Attributes));
        Assert.Equal(StatusCode.Error, rootSpan.StatusCode);
        Assert.Equal("card declined", rootSpan.StatusMessage);
        Assert.Equal("checkout", rootSpan.ServiceName);
        Assert.Equal(AnyValue.FromString("1.4.2"), ResourceAttribute(rootSpan, "service.version"));
        Assert.Equal(AnyValue.FromString("test"), ResourceAttribute(rootSpan, "deployment.environment"));
        Assert.Equal(source.Name, rootSpan.Scope.Name);
    }

    [Fact]
    public async Task Otlp_json_over_http_is_stored_and_answered_in_json()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        var traceId = "0af7651916cd43dd8448eb211c80319c";
        var json = $$$"""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-client"}}]},
              "scopeSpans":[{"scope":{"name":"curl"},"spans":[
                {"traceId":"{{{traceId}}}","spanId":"b7ad6b7169203331","name":"GET /cart","kind":2,
                 "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":1700000000250000000,
                 "attributes":[{"key":"http.status_code","value":{"intValue":"200"}}]},
                {"traceId":"{{{traceId}}}","spanId":"00f067aa0ba902b7","parentSpanId":"b7ad6b7169203331","name":"cache get","kind":3}]}]}]}
            """;

        using var response = await http.PostAsync("/v1/traces", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
        var spans = await GetTraceAsync("default", traceId);
        Assert.Equal(2, spans.Count);
        Assert.All(spans, s => Assert.Equal("json-client", s.ServiceName));
        Assert.Equal(AnyValue.FromInt(200), Attribute(spans.Single(s => s.IsRoot), "http.status_code"));
    }

    [Fact]
    public async Task A_grpc_export_with_invalid_ids_gets_partial_success_and_the_valid_spans_are_stored()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var client = new TraceService.TraceServiceClient(channel);
        var good = OtlpProtobufDecoderTests.ValidSpan("good");
        var shortTraceId = OtlpProtobufDecoderTests.ValidSpan("short trace id");
        shortTraceId.TraceId = ByteString.CopyFrom(new byte[15]);
        var zeroSpanId = OtlpProtobufDecoderTests.ValidSpan("zero span id");
        zeroSpanId.SpanId = ByteString.CopyFrom(new byte[8]);
        var request = OtlpProtobufDecoderTests.Request(OtlpProtobufDecoderTests.ResourceSpans(
            [OtlpProtobufDecoderTests.Attribute("service.name", "grpc-client")], good, shortTraceId, zeroSpanId));

        var response = await client.ExportAsync(request, new Metadata { { "x-tenant", "partial" } });

        Assert.Equal(2, response.PartialSuccess.RejectedSpans);
        Assert.Contains("trace_id", response.PartialSuccess.ErrorMessage, StringComparison.Ordinal);
        var stored = await GetTraceAsync("partial", TraceId.FromBytes(good.TraceId.Span).ToHex());
        Assert.Equal("good", Assert.Single(stored).Name);
    }

    [Fact]
    public async Task An_http_protobuf_export_with_invalid_ids_gets_partial_success_in_protobuf()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        var bad = OtlpProtobufDecoderTests.ValidSpan("bad parent");
        bad.ParentSpanId = ByteString.CopyFrom(new byte[3]);
        var request = OtlpProtobufDecoderTests.Request(OtlpProtobufDecoderTests.ResourceSpans([], OtlpProtobufDecoderTests.ValidSpan("ok"), bad));

        using var response = await http.PostAsync("/v1/traces", Protobuf(request.ToByteArray()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType?.MediaType);
        var decoded = ExportTraceServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, decoded.PartialSuccess.RejectedSpans);
        Assert.Contains("parent_span_id", decoded.PartialSuccess.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gzip_and_deflate_request_bodies_are_decompressed()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        foreach (var encoding in new[] { "gzip", "deflate" })
        {
            var span = OtlpProtobufDecoderTests.ValidSpan(encoding);
            span.TraceId = ByteString.CopyFrom(Enumerable.Repeat((byte)(encoding.Length), 16).ToArray());
            var body = Compress(OtlpProtobufDecoderTests.Request(OtlpProtobufDecoderTests.ResourceSpans([], span)).ToByteArray(), encoding);
            var content = Protobuf(body);
            content.Headers.ContentEncoding.Add(encoding);

            using var response = await http.PostAsync("/v1/traces", content);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(encoding, Assert.Single(await GetTraceAsync("default", TraceId.FromBytes(span.TraceId.Span).ToHex())).Name);
        }
    }

    [Fact]
    public async Task A_gzip_compressed_grpc_export_is_decompressed()
    {
        var span = OtlpProtobufDecoderTests.ValidSpan("compressed");
        span.TraceId = ByteString.CopyFrom(Enumerable.Repeat((byte)0x6A, 16).ToArray());
        var request = OtlpProtobufDecoderTests.Request(OtlpProtobufDecoderTests.ResourceSpans([], span)).ToByteArray();

        var (status, _) = await RawGrpcFrameAsync(fixture.Server.GetUri(Listener.OtlpGrpc), Compress(request, "gzip"), gzip: true);

        Assert.Equal(Grpc.Core.StatusCode.OK, status);
        Assert.Equal("compressed", Assert.Single(await GetTraceAsync("default", TraceId.FromBytes(span.TraceId.Span).ToHex())).Name);
    }

    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task Metrics_from_the_SDK_are_accepted_and_counted_as_ignored(OtlpExportProtocol protocol)
    {
        var metricsBefore = await ReadMetricAsync("ariadne_signals_ignored_total", "signal=\"metrics\"");
        var failedBefore = await ReadMetricAsync("ariadne_ingest_requests_failed_total", null);
        using var meter = new Meter($"Ariadne.Tests.Metrics.{protocol}");
        using (var metrics = Sdk.CreateMeterProviderBuilder()
            .AddMeter(meter.Name)
            .AddOtlpExporter((otlp, _) => ConfigureExporter(otlp, protocol, "/v1/metrics", tenant: null))
            .Build())
        {
            meter.CreateCounter<long>("orders.placed").Add(3);
            meter.CreateHistogram<double>("orders.value").Record(42.5);
            Assert.True(metrics.ForceFlush());

            // Counted before the provider's final export on dispose.
            Assert.Equal(metricsBefore + 2, await ReadMetricAsync("ariadne_signals_ignored_total", "signal=\"metrics\""));
        }

        Assert.Equal(failedBefore, await ReadMetricAsync("ariadne_ingest_requests_failed_total", null));
    }

    [Fact]
    public async Task Malformed_protobuf_over_http_gets_400_with_a_status_body_and_the_server_keeps_serving()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);

        using var response = await http.PostAsync("/v1/traces", Protobuf([0x0A, 0x05, 0x12]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType?.MediaType);
        var status = Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((int)Grpc.Core.StatusCode.InvalidArgument, status.Code);
        Assert.Contains("longer than the rest", status.Message, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Malformed_json_gets_400_with_a_json_status_body_and_the_server_keeps_serving()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);

        using var response = await http.PostAsync("/v1/traces", new StringContent("{\"resourceSpans\":[{", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, status.RootElement.GetProperty("code").GetInt32());
        Assert.Contains("not valid JSON", status.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Malformed_protobuf_over_grpc_gets_invalid_argument_and_the_server_keeps_serving()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));

        var error = await Assert.ThrowsAsync<RpcException>(() => RawGrpcExportAsync(channel, [0x0A, 0x05, 0x12], new Metadata()));

        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("longer than the rest", error.Status.Detail, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task An_unsupported_content_type_gets_415_and_the_server_keeps_serving()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);

        using var response = await http.PostAsync("/v1/traces", new StringContent("<spans/>", Encoding.UTF8, "application/xml"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var status = Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Contains("application/x-protobuf", status.Message, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task An_unsupported_content_encoding_gets_415_and_the_server_keeps_serving()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        var content = Protobuf([]);
        content.Headers.ContentEncoding.Add("br");

        using var response = await http.PostAsync("/v1/traces", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task An_invalid_tenant_header_gets_400_over_http_and_invalid_argument_over_grpc()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = Protobuf([]) };
        request.Headers.Add("x-tenant", "not a tenant!");
        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var client = new TraceService.TraceServiceClient(channel);

        using var response = await http.SendAsync(request);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.ExportAsync(new ExportTraceServiceRequest(), new Metadata { { "x-tenant", "../etc" } }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("x-tenant", Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync()).Message, StringComparison.Ordinal);
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, error.StatusCode);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Refused_requests_are_counted_by_protocol_and_reason()
    {
        var before = await ReadMetricAsync("ariadne_ingest_requests_failed_total", "protocol=\"otlp_http\",reason=\"malformed\"");
        using var http = fixture.CreateClient(Listener.OtlpHttp);

        using var response = await http.PostAsync("/v1/traces", Protobuf([0xFF]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before + 1, await ReadMetricAsync("ariadne_ingest_requests_failed_total", "protocol=\"otlp_http\",reason=\"malformed\""));
    }

    [Fact]
    public async Task Otlp_endpoints_are_served_only_on_their_listeners()
    {
        using var query = fixture.CreateClient(Listener.Query);
        using var response = await query.PostAsync("/v1/traces", Protobuf([]));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    internal static void ConfigureExporter(OtlpExporterOptions otlp, OtlpExportProtocol protocol, Uri grpc, Uri http, string signalPath, string? tenant)
    {
        otlp.Protocol = protocol;
        // Set in code, the endpoint is used as is: HTTP needs the signal's path, gRPC only the address.
        otlp.Endpoint = protocol == OtlpExportProtocol.Grpc ? grpc : new Uri(http, signalPath);
        otlp.ExportProcessorType = ExportProcessorType.Simple;
        if (tenant is not null)
        {
            otlp.Headers = $"x-tenant={tenant}";
        }
    }

    private void ConfigureExporter(OtlpExporterOptions otlp, OtlpExportProtocol protocol, string signalPath, string? tenant) =>
        ConfigureExporter(otlp, protocol, fixture.Server.GetUri(Listener.OtlpGrpc), fixture.Server.GetUri(Listener.OtlpHttp), signalPath, tenant);

    internal static Task<byte[]> RawGrpcExportAsync(GrpcChannel channel, byte[] message, Metadata headers)
    {
        var method = new Method<byte[], byte[]>(
            MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        return channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(headers), message).ResponseAsync;
    }

    /// <summary>One OTLP trace export as a gRPC frame written by hand; returns the call's grpc-status and grpc-message.</summary>
    internal static async Task<(Grpc.Core.StatusCode Status, string? Message)> RawGrpcFrameAsync(Uri server, byte[] message, bool gzip)
    {
        var answer = await RawGrpc.SendAsync(server, RawGrpc.Frame(message, compressed: gzip), gzip ? "gzip" : null);
        return (answer.Status!.Value, answer.Message);
    }

    internal static ByteArrayContent Protobuf(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return content;
    }

    internal static byte[] Compress(byte[] body, string encoding)
    {
        using var output = new MemoryStream();
        using (Stream compressor = encoding == "gzip"
            ? new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal)
            : new System.IO.Compression.ZLibStream(output, System.IO.Compression.CompressionLevel.Optimal))
        {
            compressor.Write(body);
        }

        return output.ToArray();
    }

    private async Task AssertStillServesAsync()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        var span = OtlpProtobufDecoderTests.ValidSpan("after a bad request");
        span.TraceId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray());
        using var response = await http.PostAsync("/v1/traces", Protobuf(OtlpProtobufDecoderTests.Request(OtlpProtobufDecoderTests.ResourceSpans([], span)).ToByteArray()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(await GetTraceAsync("default", TraceId.FromBytes(span.TraceId.Span).ToHex()));
    }

    private async Task<IReadOnlyList<Span>> GetTraceAsync(string tenant, ActivityTraceId traceId) => await GetTraceAsync(tenant, traceId.ToHexString());

    private async Task<IReadOnlyList<Span>> GetTraceAsync(string tenant, string traceIdHex)
    {
        Assert.True(TraceId.TryParseHex(traceIdHex, out var traceId));
        return await fixture.Server.Services.GetRequiredService<ISpanStore>().GetTraceAsync(tenant, traceId, CancellationToken.None);
    }

    /// <summary>The sum of a counter's samples whose labels contain <paramref name="labels"/> (all samples when null).</summary>
    private async Task<double> ReadMetricAsync(string name, string? labels)
    {
        var text = await fixture.Query.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) && (labels is null || line.Contains(labels, StringComparison.Ordinal)))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    private static AnyValue Attribute(Span span, string key) => Assert.Single(span.Attributes, a => a.Key == key).Value;

    private static AnyValue ResourceAttribute(Span span, string key) => Assert.Single(span.Resource.Attributes, a => a.Key == key).Value;
}
