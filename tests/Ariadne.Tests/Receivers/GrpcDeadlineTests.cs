using Ariadne.Hosting;
using Ariadne.Tests.Receivers.Jaeger;
using Ariadne.Tests.Receivers.Otlp;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Ariadne.Tests.Receivers;

/// <summary>
/// grpc-timeout on the gRPC receivers: a call whose deadline passes before it is answered gets DEADLINE_EXCEEDED
/// with what to do, a call within its deadline is served, and a malformed value is no deadline (as grpc-dotnet).
/// The server has the OTLP and Jaeger gRPC listeners on.
/// </summary>
public sealed class GrpcDeadlineTests(JaegerServerFixture fixture) : IClassFixture<JaegerServerFixture>
{
    private const string JaegerPostSpans = "/jaeger.api_v2.CollectorService/PostSpans";
    private const string LogsExport = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

    private static readonly byte[] s_export = OtlpProtobufDecoderTests.Request(
        OtlpProtobufDecoderTests.ResourceSpans([], OtlpProtobufDecoderTests.ValidSpan("deadline"))).ToByteArray();

    [Theory]
    [InlineData(Listener.OtlpGrpc, RawGrpc.TraceExport)]
    [InlineData(Listener.OtlpGrpc, LogsExport)]
    [InlineData(Listener.JaegerGrpc, JaegerPostSpans)]
    public async Task A_call_whose_deadline_has_passed_on_arrival_gets_deadline_exceeded(Listener listener, string path)
    {
        var answer = await RawGrpc.SendAsync(fixture.Server.GetUri(listener), RawGrpc.Frame([]), path: path, grpcTimeout: "1n");

        Assert.Equal(StatusCode.DeadlineExceeded, answer.Status);
        Assert.Contains("raise the client's timeout or send smaller batches", answer.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Listener.OtlpGrpc, RawGrpc.TraceExport)]
    [InlineData(Listener.JaegerGrpc, JaegerPostSpans)]
    public async Task A_call_still_waiting_when_its_deadline_passes_gets_deadline_exceeded_and_the_server_keeps_serving(Listener listener, string path)
    {
        // The frame header declares a message that never comes: the endpoint waits on the body until the deadline.
        using var body = new EndlessContent(RawGrpc.Frame(0, 1000, []));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var answer = await RawGrpc.SendAsync(fixture.Server.GetUri(listener), body, path: path, grpcTimeout: "200m", cancellationToken: timeout.Token);

        Assert.Equal(StatusCode.DeadlineExceeded, answer.Status);
        Assert.Contains("grpc-timeout 200m", answer.Message, StringComparison.Ordinal);
        Assert.Equal(StatusCode.OK, (await RawGrpc.SendAsync(fixture.Server.GetUri(Listener.OtlpGrpc), RawGrpc.Frame(s_export))).Status);
    }

    [Fact]
    public async Task A_call_within_the_deadline_a_grpc_client_sends_is_served()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));

        // Grpc.Net.Client sends the deadline as grpc-timeout.
        var reply = await new TraceService.TraceServiceClient(channel).ExportAsync(
            ExportTraceServiceRequest.Parser.ParseFrom(s_export), deadline: DateTime.UtcNow.AddMinutes(1));

        Assert.Null(reply.PartialSuccess);
    }

    [Theory]
    [InlineData("30S")]
    [InlineData("99999999H")]
    public async Task A_call_within_its_grpc_timeout_is_served(string grpcTimeout)
    {
        var answer = await RawGrpc.SendAsync(fixture.Server.GetUri(Listener.OtlpGrpc), RawGrpc.Frame(s_export), grpcTimeout: grpcTimeout);

        Assert.Equal(StatusCode.OK, answer.Status);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("5X")]
    [InlineData("0m")]
    [InlineData("-5S")]
    [InlineData("123456789S")]
    [InlineData("S")]
    public async Task A_malformed_grpc_timeout_is_no_deadline(string grpcTimeout)
    {
        var answer = await RawGrpc.SendAsync(fixture.Server.GetUri(Listener.OtlpGrpc), RawGrpc.Frame(s_export), grpcTimeout: grpcTimeout);

        Assert.Equal(StatusCode.OK, answer.Status);
    }
}
