using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Ariadne.Configuration;
using Ariadne.Fuzzing;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Jaeger.ApiV2;
using Ariadne.Tests.Receivers.Otlp;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using JaegerKeyValue = Ariadne.Tests.Jaeger.ApiV2.KeyValue;
using JaegerSpan = Ariadne.Tests.Jaeger.ApiV2.Span;
using JaegerValueType = Ariadne.Tests.Jaeger.ApiV2.ValueType;
using KeyValue = Ariadne.Model.KeyValue;
using SpanKind = Ariadne.Model.SpanKind;
using StatusCode = Ariadne.Model.StatusCode;

namespace Ariadne.Tests.Receivers.Jaeger;

/// <summary>A server with every Jaeger port on (free ports: 0 turns them off) and a small body limit.</summary>
public class JaegerServerFixture : ServerFixture
{
    public const int MaxRequestBytes = 64 * 1024;

    protected override void Configure(AriadneOptions options)
    {
        options.Ingest.MaxRequestBytes = MaxRequestBytes;
        options.Ports.JaegerThriftHttp = FreePort.Next();
        options.Ports.JaegerGrpc = FreePort.Next();
        options.Ports.JaegerCompact = FreePort.Next();
        options.Ports.JaegerBinary = FreePort.Next();
    }

    public Uri ThriftHttpUrl => new(Server.GetUri(Listener.JaegerThriftHttp), "api/traces");

    public ISpanStore Store => Server.Services.GetRequiredService<ISpanStore>();

    /// <summary>Sends one datagram to the compact or binary agent port.</summary>
    public async Task SendDatagramAsync(byte[] datagram, bool compact)
    {
        using var udp = new UdpClient();
        await udp.SendAsync(datagram, new IPEndPoint(IPAddress.Loopback, compact ? Server.Options.Ports.JaegerCompact : Server.Options.Ports.JaegerBinary));
    }

    public async Task<IReadOnlyList<Model.Span>> WaitForTraceAsync(string tenant, TraceId traceId, int spans)
    {
        IReadOnlyList<Model.Span> found = [];
        await Poll.UntilAsync(async () => (found = await Store.GetTraceAsync(tenant, traceId, CancellationToken.None)).Count >= spans,
            $"{spans} spans of trace {traceId} for tenant {tenant}", interval: TimeSpan.FromMilliseconds(100));
        return found;
    }
}

/// <summary>
/// Jaeger's collector ports (Thrift over HTTP, gRPC) and the agent's UDP ports of the real server. The gRPC calls are
/// made with Grpc.Net.Client and types generated from jaeger-idl's model.proto and collector.proto (Protos/jaeger): no
/// Jaeger gRPC client is packaged here, so the .proto messages stand in for one.
/// </summary>
public sealed class JaegerReceiverTests(JaegerServerFixture fixture) : IClassFixture<JaegerServerFixture>
{
    private static readonly byte[] s_traceId = Convert.FromHexString("4bf92f3577b34da6a3ce929d0e0e4736");
    private static readonly byte[] s_otherTraceId = Convert.FromHexString("00000000000000000000000000000abc");

    [Fact]
    public async Task PostSpans_maps_references_own_process_scope_trace_state_http_status_and_logs()
    {
        var start = DateTimeOffset.FromUnixTimeMilliseconds(1_765_000_000_000);
        var root = new JaegerSpan
        {
            TraceId = ByteString.CopyFrom(s_traceId),
            SpanId = Id(1),
            OperationName = "POST /checkout",
            Flags = 1,
            StartTime = Timestamp.FromDateTimeOffset(start),
            Duration = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(120)),
            Tags =
            {
                Str("span.kind", "server"), Str("otel.scope.name", "checkout-lib"), Str("otel.scope.version", "2.1"),
                Str("w3c.tracestate", "vendor=1"), new JaegerKeyValue { Key = "http.status_code", VType = JaegerValueType.Int64, VInt64 = 503 },
            },
        };
        var child = new JaegerSpan
        {
            TraceId = ByteString.CopyFrom(s_traceId),
            SpanId = Id(2),
            OperationName = "publish order",
            StartTime = Timestamp.FromDateTimeOffset(start.AddMilliseconds(5)),
            Duration = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(10)),
            References =
            {
                new SpanRef { TraceId = ByteString.CopyFrom(s_traceId), SpanId = Id(1), RefType = SpanRefType.ChildOf },
                new SpanRef { TraceId = ByteString.CopyFrom(s_otherTraceId), SpanId = Id(9), RefType = SpanRefType.FollowsFrom },
            },
            Tags = { Str("span.kind", "producer"), new JaegerKeyValue { Key = "error", VType = JaegerValueType.Bool, VBool = true }, Str("otel.status_description", "broker down") },
            Logs = { new Log { Timestamp = Timestamp.FromDateTimeOffset(start.AddMilliseconds(6)), Fields = { Str("event", "retry"), new JaegerKeyValue { Key = "attempt", VType = JaegerValueType.Int64, VInt64 = 2 } } } },
            Process = new Process { ServiceName = "orders-worker" },
        };
        var request = new PostSpansRequest
        {
            Batch = new Batch
            {
                Process = new Process { ServiceName = "orders", Tags = { Str("hostname", "node-7"), Str("jaeger.version", "Go-2.30.0") } },
                Spans = { root, child },
            },
        };

        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.JaegerGrpc));
        await new CollectorService.CollectorServiceClient(channel).PostSpansAsync(request, new Metadata { { "x-tenant", "jaeger-grpc" } });

        var spans = await fixture.Store.GetTraceAsync("jaeger-grpc", TraceId.FromBytes(s_traceId), CancellationToken.None);
        var server = spans.Single(s => s.Name == "POST /checkout");
        Assert.Equal(("orders", SpanKind.Server, StatusCode.Error, "vendor=1"), (server.ServiceName, server.Kind, server.StatusCode, server.TraceState));
        Assert.Equal(("checkout-lib", "2.1"), (server.Scope.Name, server.Scope.Version));
        Assert.Equal(start.ToUnixTimeMilliseconds() * 1_000_000, server.StartTimeUnixNano);
        Assert.Equal(120_000_000, server.DurationNanos);
        Assert.Equal([KeyValue.Int("http.status_code", 503)], server.Attributes);
        Assert.Contains(KeyValue.String("host.name", "node-7"), server.Resource.Attributes);
        Assert.Contains(KeyValue.String("opencensus.exporterversion", "Jaeger-Go-2.30.0"), server.Resource.Attributes);

        var producer = spans.Single(s => s.Name == "publish order");
        Assert.Equal(("orders-worker", SpanKind.Producer, StatusCode.Error, "broker down"), (producer.ServiceName, producer.Kind, producer.StatusCode, producer.StatusMessage));
        Assert.Equal(server.SpanId, producer.ParentSpanId);
        var link = Assert.Single(producer.Links);
        Assert.Equal((TraceId.FromBytes(s_otherTraceId), new SpanId(9)), (link.TraceId, link.SpanId));
        Assert.Equal([KeyValue.String("opentracing.ref_type", "follows_from")], link.Attributes);
        var retry = Assert.Single(producer.Events);
        Assert.Equal(("retry", start.AddMilliseconds(6).ToUnixTimeMilliseconds() * 1_000_000), (retry.Name, retry.TimeUnixNano));
        Assert.Equal([KeyValue.Int("attempt", 2)], retry.Attributes);
    }

    [Fact]
    public async Task PostSpans_with_a_malformed_message_or_a_short_trace_id_is_invalid_argument()
    {
        var garbage = await RawGrpc.SendAsync(fixture.Server.GetUri(Listener.JaegerGrpc), new ByteArrayContent(RawGrpc.Frame([0x0a, 0x7f, 0x01])), path: "/jaeger.api_v2.CollectorService/PostSpans");
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, garbage.Status);
        Assert.Contains("PostSpansRequest", garbage.Message, StringComparison.Ordinal);

        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.JaegerGrpc));
        var shortId = new PostSpansRequest { Batch = new Batch { Spans = { new JaegerSpan { TraceId = ByteString.CopyFrom(1, 2, 3), SpanId = Id(1) } } } };
        var error = await Assert.ThrowsAsync<RpcException>(async () => await new CollectorService.CollectorServiceClient(channel).PostSpansAsync(shortId));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("has 3 bytes; a Jaeger trace id has 16", error.Status.Detail, StringComparison.Ordinal);

        var unknown = await RawGrpc.SendAsync(fixture.Server.GetUri(Listener.JaegerGrpc), new ByteArrayContent(RawGrpc.Frame([])), path: "/jaeger.api_v2.SamplingManager/GetSamplingStrategy");
        Assert.Equal(Grpc.Core.StatusCode.Unimplemented, unknown.Status);
    }

    [Fact]
    public async Task Thrift_http_takes_the_go_exporters_body_and_refuses_bad_ones_with_a_message()
    {
        using var http = new HttpClient();
        var body = Fixture("go-collector-binary.bin");
        using (var accepted = await http.PostAsync(fixture.ThriftHttpUrl, Thrift(body, tenant: "jaeger-http")))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        var spans = await fixture.Store.GetTraceAsync("jaeger-http", Parse("05aae46937db686e8d707b632bb288ca"), CancellationToken.None);
        Assert.Equal(["GET /checkout", "charge card"], spans.Select(s => s.Name).Order(StringComparer.Ordinal));

        using var truncated = await http.PostAsync(fixture.ThriftHttpUrl, Thrift(body[..500]));
        Assert.Equal(HttpStatusCode.BadRequest, truncated.StatusCode);
        Assert.StartsWith("the body is not a jaeger.thrift Batch in the Thrift binary protocol:", await truncated.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var json = await http.PostAsync(fixture.ThriftHttpUrl, new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.Contains("application/x-thrift", await json.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var tooLarge = await http.PostAsync(fixture.ThriftHttpUrl, Thrift(new byte[JaegerServerFixture.MaxRequestBytes + 1]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
    }

    [Fact]
    public async Task Agent_datagrams_are_stored_for_the_default_tenant_and_malformed_ones_dropped_and_counted()
    {
        await fixture.SendDatagramAsync([0x82, 0x21, 0x01, 0x09, .. "emitBatch"u8, 0x1c, 0x0c, 0x7f], compact: true);
        await fixture.SendDatagramAsync(Fixture("node-agent-binary.bin")[..100], compact: false);
        var failures = string.Empty;
        var counted = Poll.UntilAsync(async () =>
        {
            failures = string.Join('\n', (await fixture.Query.GetStringAsync("/metrics")).Split('\n').Where(l => l.StartsWith("ariadne_ingest_requests_failed_total{", StringComparison.Ordinal)));
            return failures.Contains("protocol=\"jaeger_thrift_compact\",reason=\"malformed\"} 1", StringComparison.Ordinal)
                && failures.Contains("protocol=\"jaeger_thrift_binary\",reason=\"malformed\"} 1", StringComparison.Ordinal);
        }, "the two malformed datagrams counted", interval: TimeSpan.FromMilliseconds(100));
        var timedOut = await Record.ExceptionAsync(() => counted);
        Assert.True(timedOut is null, $"{timedOut?.Message} /metrics has: {failures}");

        await fixture.SendDatagramAsync(Fixture("go-agent-compact.bin"), compact: true);
        var compact = await fixture.WaitForTraceAsync("default", Parse("912b2526a7ff4e3e0a159a961c4fd20c"), 1);
        Assert.Equal(("go-agent", "charge card"), (compact.Single().ServiceName, compact.Single().Name));

        await fixture.SendDatagramAsync(Fixture("node-agent-binary.bin"), compact: false);
        var binary = await fixture.WaitForTraceAsync("default", Parse("e91dce9fd0122497"), 2);
        Assert.All(binary, s => Assert.Equal("node-udp", s.ServiceName));
    }

    private static ByteArrayContent Thrift(byte[] body, string? tenant = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-thrift");
        if (tenant is not null)
        {
            content.Headers.TryAddWithoutValidation("x-tenant", tenant);
        }

        return content;
    }

    private static TraceId Parse(string hex) => TraceId.TryParseHex(hex, out var id) ? id : throw new ArgumentException(hex);

    private static ByteString Id(ulong value) => ByteString.CopyFrom(new SpanId(value).ToBytes());

    private static JaegerKeyValue Str(string key, string value) => new() { Key = key, VType = JaegerValueType.String, VStr = value };

    private static byte[] Fixture(string name) => FuzzSeeds.RealClient(name);
}
