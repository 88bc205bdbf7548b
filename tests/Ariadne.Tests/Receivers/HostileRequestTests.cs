using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Ariadne.Hosting;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Receivers.Otlp;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Ariadne.Tests.Receivers;

/// <summary>
/// The requests a mutation fuzzer found answered with gRPC UNKNOWN or HTTP 500 (issue 13), and their neighbours:
/// each gets INVALID_ARGUMENT / 400 or RESOURCE_EXHAUSTED / 413 with a message, and the server then serves a
/// well-formed export on every transport.
/// </summary>
public sealed class HostileRequestTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly byte[] s_export = OtlpProtobufDecoderTests.Request(
        OtlpProtobufDecoderTests.ResourceSpans([], OtlpProtobufDecoderTests.ValidSpan("hostile-neighbour"))).ToByteArray();

    // A zlib header with the FDICT flag (0x78 0x20): zlib stops for a dictionary the body cannot give, and .NET raises
    // its own ZLibException rather than InvalidDataException (found by the deflate-body fuzz target: a 500 before).
    private static readonly byte[] s_presetDictionaryDeflate = [0x78, 0x20, 0xAA, 0x16, 0x2A, 0x4A, 0x2D, 0xCE, 0x2F, 0x2B, 0x4A, 0x6E];

    private Uri Grpc => fixture.Server.GetUri(Listener.OtlpGrpc);

    public static TheoryData<string, byte[], string?, string> BadFraming => new()
    {
        { "compressed flag 2", RawGrpc.Frame(2, (uint)s_export.Length, s_export), null, "compressed flag 2" },
        { "compressed flag 255", RawGrpc.Frame(255, (uint)s_export.Length, s_export), "gzip", "compressed flag 255" },
        { "flagged compressed without grpc-encoding", RawGrpc.Frame(s_export, compressed: true), null, "no grpc-encoding" },
        { "corrupt gzip", RawGrpc.Frame(1, 64, [0x1F, 0x8B, .. Enumerable.Repeat((byte)0xA5, 62)]), "gzip", "not valid gzip data" },
        { "gzip with an unsupported compression method", RawGrpc.Frame(1, 10, [0x1F, 0x8B, 0x07, 0, 0, 0, 0, 0, 0, 0xFF]), "gzip", "not valid gzip data" },
        { "corrupt deflate", RawGrpc.Frame(1, 8, [0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), "deflate", "not valid deflate data" },
        { "deflate asking for a preset dictionary", RawGrpc.Frame(1, (uint)s_presetDictionaryDeflate.Length, s_presetDictionaryDeflate), "deflate", "not valid deflate data" },
        { "a message cut short", RawGrpc.Frame(0, (uint)s_export.Length + 100, s_export), null, "body ends after" },
        { "a header cut short", [0, 0, 0], null, "inside the 5-byte gRPC message header" },
        { "no message", [], null, "carries no message" },
        { "two messages", [.. RawGrpc.Frame(s_export), .. RawGrpc.Frame(s_export)], null, "more than one gRPC message" },
        { "a message that is not OTLP", RawGrpc.Frame([0x0A, 0x05, 0x12]), null, "longer than the rest" },
    };

    [Theory]
    [MemberData(nameof(BadFraming))]
    public async Task Bad_grpc_framing_or_compression_gets_invalid_argument_and_the_server_keeps_serving(string what, byte[] body, string? grpcEncoding, string message)
    {
        var answer = await RawGrpc.SendAsync(Grpc, body, grpcEncoding);

        Assert.True(answer.Status == StatusCode.InvalidArgument, $"{what}: {answer}");
        Assert.Equal(HttpStatusCode.OK, answer.Http);
        Assert.Contains(message, answer.Message, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData(0xFFFFFFFFu)]
    [InlineData(0x80000000u)]
    [InlineData(16u * 1024 * 1024 + 1)]
    public async Task A_grpc_frame_declaring_more_than_the_limit_gets_resource_exhausted_before_its_message_is_sent(uint declared)
    {
        // The header alone, then a body that never ends: the answer can only come from the declared length.
        using var body = new EndlessContent(RawGrpc.Frame(0, declared, []));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var answer = await RawGrpc.SendAsync(Grpc, body, cancellationToken: timeout.Token);

        Assert.Equal(StatusCode.ResourceExhausted, answer.Status);
        Assert.Contains("Ingest:MaxRequestBytes", answer.Message, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task An_unknown_grpc_encoding_gets_unimplemented_and_the_server_keeps_serving()
    {
        var answer = await RawGrpc.SendAsync(Grpc, RawGrpc.Frame(s_export, compressed: true), "snappy");

        Assert.Equal(StatusCode.Unimplemented, answer.Status);
        Assert.Contains("snappy", answer.Message, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task An_unknown_grpc_method_gets_unimplemented_and_a_non_grpc_content_type_gets_415()
    {
        var unknown = await RawGrpc.SendAsync(Grpc, RawGrpc.Frame(s_export), path: "/grpc.health.v1.Health/Check");
        Assert.Equal(StatusCode.Unimplemented, unknown.Status);

        var notGrpc = await RawGrpc.SendAsync(Grpc, s_export, contentType: "application/x-protobuf");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notGrpc.Http);
        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData(Listener.OtlpHttp, "/v1/traces", "application/x-protobuf")]
    [InlineData(Listener.Zipkin, "/api/v2/spans", "application/json")]
    public async Task An_http_body_declaring_more_than_the_limit_gets_413_before_it_is_sent(Listener listener, string path, string contentType)
    {
        var server = fixture.Server.GetUri(listener);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        var head = $"POST {path} HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: {contentType}\r\nContent-Length: 4294967295\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));

        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 413", statusLine, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    // Found by DecoderFuzzTests: ValueTextEquals throws InvalidOperationException on an escaped property name with a
    // lone surrogate, so such a name was a 500 (OTLP/JSON traces, logs and metrics, and Zipkin JSON alike).
    [Theory]
    [InlineData("/v1/traces", "{\"resourceSpans\\udc00\":[]}")]
    [InlineData("/v1/traces", "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"na\\ud800me\":\"x\"}]}]}]}")]
    [InlineData("/v1/logs", "{\"resourceLogs\\ud800\":[]}")]
    [InlineData("/v1/metrics", "{\"resourceMetrics\\ud800\":[]}")]
    public async Task An_otlp_json_property_name_with_a_lone_surrogate_is_a_400_and_the_server_keeps_serving(string path, string json)
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.GetUri(Listener.OtlpHttp) };
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await http.PostAsync(path, content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData("/v1/traces")]
    [InlineData("/v1/logs")]
    public async Task An_otlp_http_deflate_body_asking_for_a_preset_dictionary_is_a_400_and_the_server_keeps_serving(string path)
    {
        // Zipkin takes gzip only (415 for deflate), so OTLP/HTTP is where a deflate body is read.
        using var http = new HttpClient { BaseAddress = fixture.Server.GetUri(Listener.OtlpHttp) };
        using var content = new ByteArrayContent(s_presetDictionaryDeflate);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-protobuf");
        content.Headers.ContentEncoding.Add("deflate");

        using var response = await http.PostAsync(path, content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not valid deflate data", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    private async Task AssertStillServesAsync()
    {
        using var channel = GrpcChannel.ForAddress(Grpc);
        var reply = await new TraceService.TraceServiceClient(channel).ExportAsync(ExportTraceServiceRequest.Parser.ParseFrom(s_export));
        Assert.Null(reply.PartialSuccess);

        var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(s_export);
        }

        Assert.Equal(StatusCode.OK, (await RawGrpc.SendAsync(Grpc, RawGrpc.Frame(compressed.ToArray(), compressed: true), "gzip")).Status);

        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using var response = await http.PostAsync("/v1/traces", OtlpReceiverTests.Protobuf(s_export));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var zipkin = fixture.CreateClient(Listener.Zipkin);
        using var accepted = await zipkin.PostAsync("/api/v2/spans", new StringContent("[]", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }
}
