using System.Globalization;
using System.Net;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Ariadne.Tests.Receivers.Otlp;

/// <summary>A server with a 64 KiB request limit, to send it bodies over the limit cheaply.</summary>
public sealed class SmallRequestLimitServerFixture : ServerFixture
{
    public const int MaxRequestBytes = 64 * 1024;

    protected override void Configure(AriadneOptions options) => options.Ingest.MaxRequestBytes = MaxRequestBytes;
}

public sealed class OtlpSizeLimitTests(SmallRequestLimitServerFixture fixture) : IClassFixture<SmallRequestLimitServerFixture>
{
    // Over the limit uncompressed; about 300 bytes gzip-compressed.
    private static readonly byte[] s_overLimit = OversizedRequest(SmallRequestLimitServerFixture.MaxRequestBytes + 1);

    // A gzip bomb: 50 MiB of zeros in about 50 KiB, under the limit on the wire.
    private static readonly byte[] s_bomb = OtlpReceiverTests.Compress(new byte[50 * 1024 * 1024], "gzip");

    [Fact]
    public async Task A_body_over_the_limit_gets_413_with_a_status_body_and_the_server_keeps_serving()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);

        using var response = await http.PostAsync("/v1/traces", OtlpReceiverTests.Protobuf(s_overLimit));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var status = Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((int)StatusCode.ResourceExhausted, status.Code);
        Assert.Contains("Ingest:MaxRequestBytes", status.Message, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task A_body_that_decompresses_over_the_limit_gets_413_and_the_server_keeps_serving()
    {
        Assert.True(s_bomb.Length < SmallRequestLimitServerFixture.MaxRequestBytes);
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        var content = OtlpReceiverTests.Protobuf(s_bomb);
        content.Headers.ContentEncoding.Add("gzip");

        using var response = await http.PostAsync("/v1/traces", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task A_grpc_message_over_the_limit_gets_resource_exhausted_is_counted_and_the_server_keeps_serving()
    {
        var before = await ReadTooLargeAsync();
        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var client = new TraceService.TraceServiceClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(ExportTraceServiceRequest.Parser.ParseFrom(s_overLimit)));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(before + 1, await ReadTooLargeAsync());
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task A_grpc_message_that_decompresses_over_the_limit_gets_resource_exhausted_and_the_server_keeps_serving()
    {
        var (status, _) = await OtlpReceiverTests.RawGrpcFrameAsync(fixture.Server.GetUri(Listener.OtlpGrpc), s_bomb, gzip: true);

        Assert.Equal(StatusCode.ResourceExhausted, status);
        await AssertStillServesAsync();
    }

    private async Task AssertStillServesAsync()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        var request = OtlpProtobufDecoderTests.Request(OtlpProtobufDecoderTests.ResourceSpans([], OtlpProtobufDecoderTests.ValidSpan("small")));
        using var response = await http.PostAsync("/v1/traces", OtlpReceiverTests.Protobuf(request.ToByteArray()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var reply = await new TraceService.TraceServiceClient(channel).ExportAsync(request);
        Assert.Null(reply.PartialSuccess);
    }

    private async Task<double> ReadTooLargeAsync()
    {
        var line = (await fixture.Query.GetStringAsync("/metrics")).Split('\n')
            .SingleOrDefault(l => l.StartsWith("ariadne_ingest_requests_failed_total{protocol=\"otlp_grpc\",reason=\"too_large\"}", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    private static byte[] OversizedRequest(int minimumBytes)
    {
        var span = OtlpProtobufDecoderTests.ValidSpan("big");
        span.Attributes.Add(OtlpProtobufDecoderTests.Attribute("payload", new string('x', minimumBytes)));
        return OtlpProtobufDecoderTests.Request(OtlpProtobufDecoderTests.ResourceSpans([], span)).ToByteArray();
    }
}
