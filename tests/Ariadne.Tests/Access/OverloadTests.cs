using System.Net;
using System.Net.Http.Headers;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Limits;
using Ariadne.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;
using static Ariadne.Tests.Access.AccessRequests;
using StatusCode = Grpc.Core.StatusCode;

namespace Ariadne.Tests.Access;

/// <summary>An in-flight bound so small that one request in flight fills it.</summary>
public sealed class TinyInFlightServerFixture : ServerFixture
{
    protected override void Configure(AriadneOptions options) => options.Limits.MaxInFlightBytes = 1;
}

/// <summary>A heap bound the server is always over.</summary>
public sealed class TinyHeapServerFixture : ServerFixture
{
    protected override void Configure(AriadneOptions options) => options.Limits.MaxHeapBytes = 1;
}

/// <summary>One ingest request handled at a time.</summary>
public sealed class OneIngestAtATimeServerFixture : ServerFixture
{
    protected override void Configure(AriadneOptions options) => options.Limits.MaxConcurrentIngestRequests = 1;
}

/// <summary>Bounded ingest concurrency: requests past the bound wait their turn, and queries never wait behind them.</summary>
public sealed class IngestConcurrencyTests(OneIngestAtATimeServerFixture fixture) : IClassFixture<OneIngestAtATimeServerFixture>
{
    [Fact]
    public async Task Past_the_bound_an_ingest_request_waits_for_its_turn_while_queries_answer_and_then_both_are_stored()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using var query = fixture.CreateClient(Listener.Query);
        var release = new TaskCompletionSource();
        var held = Spans(3, out var heldTrace).ToByteArray();
        using var heldRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = new OverloadTests.HeldContent(held, release.Task) };
        heldRequest.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        var completions = new System.Collections.Concurrent.ConcurrentQueue<string>();

        // The held request has its turn (its body is being read); the next one must wait for it.
        var limiter = fixture.Server.Services.GetRequiredService<IngestMemoryLimiter>();
        var heldResponse = http.SendAsync(heldRequest).ContinueWith(t => { completions.Enqueue("held"); return t.Result; }, TaskScheduler.Default);
        await Poll.UntilAsync(() => limiter.InFlightBytes == held.Length);
        var waiting = PostAsync(http, Spans(2, out var waitingTrace)).ContinueWith(t => { completions.Enqueue("waiting"); return t.Result; }, TaskScheduler.Default);
        await Poll.UntilAsync(() => limiter.InFlightBytes > held.Length);
        using var services = await query.GetAsync("/api/services");
        Assert.Equal(HttpStatusCode.OK, services.StatusCode);
        Assert.Empty(completions);

        release.SetResult();
        using var first = await heldResponse;
        using var second = await waiting;
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        foreach (var trace in new[] { heldTrace, waitingTrace })
        {
            using var stored = await query.GetAsync($"/api/traces/{trace}");
            Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        }
    }
}

/// <summary>The memory limiter on the real server: requests over the in-flight or heap bound are refused, retryable.</summary>
public sealed class OverloadTests(TinyInFlightServerFixture fixture) : IClassFixture<TinyInFlightServerFixture>
{
    [Fact]
    public async Task While_one_request_holds_the_in_flight_bytes_others_get_429_and_RESOURCE_EXHAUSTED_then_succeed_after_it_finishes()
    {
        var limiter = fixture.Server.Services.GetRequiredService<IngestMemoryLimiter>();
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var client = new TraceService.TraceServiceClient(channel);
        var release = new TaskCompletionSource();
        var held = Spans(3, out var heldTrace).ToByteArray();
        using var heldRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = new HeldContent(held, release.Task) };
        heldRequest.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");

        // The server reserves the declared Content-Length when the headers arrive, before the body is read.
        var heldResponse = http.SendAsync(heldRequest);
        await PollAsync(() => limiter.InFlightBytes == held.Length);
        using var refused = await PostAsync(http, Spans(1));
        var grpcRefused = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(Spans(1)));
        release.SetResult();
        using var completed = await heldResponse;
        await PollAsync(() => limiter.InFlightBytes == 0);
        using var retried = await PostAsync(http, Spans(1, out var retriedTrace));
        await client.ExportAsync(Spans(1));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        var status = await ReadStatusAsync(refused);
        Assert.Contains("Limits:MaxInFlightBytes", status.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(1), RetryDelay(status));
        Assert.Equal(StatusCode.ResourceExhausted, grpcRefused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), RetryDelay(grpcRefused));
        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        Assert.Equal(3, (await StoredAsync(fixture, "default", heldTrace)).Count);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Single(await StoredAsync(fixture, "default", retriedTrace));
        var metrics = await fixture.Query.GetStringAsync("/metrics");
        Assert.Contains("ariadne_ingest_requests_failed_total{protocol=\"otlp_grpc\",reason=\"overloaded\"}", metrics, StringComparison.Ordinal);
    }

    private static async Task PollAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    /// <summary>A body with a known length whose first byte is sent at once and the rest when released.</summary>
    internal sealed class HeldContent(byte[] bytes, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, 1));
            await stream.FlushAsync();
            await release;
            await stream.WriteAsync(bytes.AsMemory(1));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }
}

public sealed class HeapBoundTests(TinyHeapServerFixture fixture) : IClassFixture<TinyHeapServerFixture>
{
    [Fact]
    public async Task Over_the_heap_bound_ingest_is_refused_with_429_while_queries_still_answer()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var client = new TraceService.TraceServiceClient(channel);

        using var refused = await PostAsync(http, Spans(1));
        var grpcRefused = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(Spans(1)));
        using var services = await fixture.Query.GetAsync("/api/services");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        Assert.Contains("Limits:MaxHeapBytes", (await ReadStatusAsync(refused)).Message, StringComparison.Ordinal);
        Assert.Equal(StatusCode.ResourceExhausted, grpcRefused.StatusCode);
        Assert.NotNull(RetryDelay(grpcRefused));
        Assert.Equal(HttpStatusCode.OK, services.StatusCode);
    }
}
