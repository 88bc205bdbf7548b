using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ariadne.Hosting;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Receivers.Otlp;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Resources;
using PLogs = OpenTelemetry.Proto.Logs.V1;

namespace Ariadne.Tests.Logs;

/// <summary>OTLP logs end to end: the real OpenTelemetry .NET SDK and a generated gRPC client to the real server, read back through the API.</summary>
public sealed class OtlpLogsReceiverTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task Logs_written_inside_an_activity_with_the_OpenTelemetry_SDK_are_returned_for_their_trace(OtlpExportProtocol protocol)
    {
        var tenant = $"logs-{protocol}".ToLowerInvariant();
        using var source = new ActivitySource($"Ariadne.Tests.Logs.{protocol}");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        ActivityTraceId traceId;
        ActivitySpanId spanId;
        using (var logging = LoggerFactory.Create(builder => builder.AddOpenTelemetry(options =>
        {
            options.SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("orders"));
            options.IncludeFormattedMessage = true;
            options.AddOtlpExporter(otlp => OtlpReceiverTests.ConfigureExporter(
                otlp, protocol, fixture.Server.GetUri(Listener.OtlpGrpc), fixture.Server.GetUri(Listener.OtlpHttp), "/v1/logs", tenant));
        })))
        {
            var logger = logging.CreateLogger("Orders.Checkout");
            using (var activity = source.StartActivity("POST /checkout")!)
            {
                traceId = activity.TraceId;
                spanId = activity.SpanId;
                logger.LogInformation("order {OrderId} placed", 42);
                logger.LogError("payment declined for {Card}", "visa");
            }

            logger.LogWarning("outside any activity");
        }

        using var response = await fixture.Query.SendAsync(Get($"/api/ariadne/traces/{traceId.ToHexString()}/logs", tenant));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var logs = json.RootElement.GetProperty("logs").EnumerateArray().ToList();
        Assert.Equal(2, logs.Count);
        Assert.All(logs, log => Assert.Equal(spanId.ToHexString(), log.GetProperty("spanId").GetString()));
        Assert.All(logs, log => Assert.Equal("orders", log.GetProperty("service").GetString()));
        Assert.Equal("info", logs[0].GetProperty("severity").GetString());
        Assert.Equal("order 42 placed", logs[0].GetProperty("body").GetString());
        Assert.Equal(42, logs[0].GetProperty("attributes").GetProperty("OrderId").GetInt32());
        Assert.Equal("error", logs[1].GetProperty("severity").GetString());
        Assert.Equal("visa", logs[1].GetProperty("attributes").GetProperty("Card").GetString());

        // Another tenant sees nothing of it.
        using var other = await fixture.Query.SendAsync(Get($"/api/ariadne/traces/{traceId.ToHexString()}/logs", "someone-else"));
        using var otherJson = JsonDocument.Parse(await other.Content.ReadAsStringAsync());
        Assert.Equal(0, otherJson.RootElement.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_record_with_an_invalid_trace_id_is_rejected_as_partial_success_over_grpc_and_the_others_are_stored()
    {
        var good = Record(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray(), "kept");
        var bad = Record([1, 2, 3], "dropped");
        var request = new ExportLogsServiceRequest();
        request.ResourceLogs.Add(new PLogs.ResourceLogs { ScopeLogs = { new PLogs.ScopeLogs { LogRecords = { good, bad } } } });

        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var client = new LogsService.LogsServiceClient(channel);
        var response = await client.ExportAsync(request, new Metadata { { "x-tenant", "partial-logs" } });

        Assert.Equal(1, response.PartialSuccess.RejectedLogRecords);
        Assert.Contains("trace_id", response.PartialSuccess.ErrorMessage, StringComparison.Ordinal);
        using var stored = await fixture.Query.SendAsync(Get("/api/ariadne/traces/0102030405060708090a0b0c0d0e0f10/logs", "partial-logs"));
        using var json = JsonDocument.Parse(await stored.Content.ReadAsStringAsync());
        Assert.Equal("kept", Assert.Single(json.RootElement.GetProperty("logs").EnumerateArray().ToList()).GetProperty("body").GetString());
    }

    [Fact]
    public async Task Otlp_json_logs_with_a_bad_id_get_rejectedLogRecords_in_the_json_response()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        const string body = """{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz","body":{"stringValue":"a"}}]}]}]}""";
        using var response = await http.PostAsync("/v1/logs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("1", json.RootElement.GetProperty("partialSuccess").GetProperty("rejectedLogRecords").GetString());
    }

    [Fact]
    public async Task Malformed_logs_get_400_over_http_and_InvalidArgument_over_grpc()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using var content = new ByteArrayContent([0x0a, 0xff, 0x01]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        using var response = await http.PostAsync("/v1/logs", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var status = Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((int)StatusCode.InvalidArgument, status.Code);

        using var json = await http.PostAsync("/v1/logs", new StringContent("""{"resourceLogs":7}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.Contains("resourceLogs", await json.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var method = new Method<byte[], byte[]>(
            MethodType.Unary, "opentelemetry.proto.collector.logs.v1.LogsService", "Export", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(), [0x0a, 0xff, 0x01]).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);

        // The server keeps serving.
        using var health = await fixture.Query.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task The_logs_api_refuses_a_bad_trace_id_with_400()
    {
        using var response = await fixture.Query.GetAsync("/api/ariadne/traces/not-hex/logs");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static PLogs.LogRecord Record(byte[] traceId, string body) => new()
    {
        TraceId = ByteString.CopyFrom(traceId),
        SeverityNumber = PLogs.SeverityNumber.Info,
        Body = new OpenTelemetry.Proto.Common.V1.AnyValue { StringValue = body },
        TimeUnixNano = 1_700_000_000_000_000_000,
    };

    private static HttpRequestMessage Get(string path, string tenant)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("x-tenant", tenant);
        return request;
    }
}
