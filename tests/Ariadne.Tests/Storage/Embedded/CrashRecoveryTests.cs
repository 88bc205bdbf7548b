using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Ariadne.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PCommon = OpenTelemetry.Proto.Common.V1;
using PResource = OpenTelemetry.Proto.Resource.V1;
using PTrace = OpenTelemetry.Proto.Trace.V1;

namespace Ariadne.Tests.Storage.Embedded;

/// <summary>
/// The embedded engine inside the real `ariadne serve` process: what a client was told is stored survives SIGKILL,
/// and a disk that refuses writes makes ingest answer the retryable errors instead of failing silently.
/// </summary>
public sealed class CrashRecoveryTests : IDisposable
{
    private const int SpansPerTrace = 10;
    private readonly string _data = Directory.CreateTempSubdirectory("ariadne-crash-").FullName;

    [Fact]
    public async Task Every_acknowledged_span_is_served_after_a_SIGKILL_under_load_and_a_restart()
    {
        ConcurrentBag<byte[]> acknowledged;
        await using (var server = await ServerProcess.StartAsync(_data))
        {
            acknowledged = await SendUntilKilledAsync(server, killWhen: null);
        }

        await using var restarted = await ServerProcess.StartAsync(_data);
        await AssertServedAsync(restarted, acknowledged, TimeSpan.Zero);
    }

    /// <summary>
    /// With tail policies the spans wait in the sampler before storage sees them: its journal must make them as
    /// durable as the WAL does. The kill comes once the server reports kept decisions (a 1 s decision wait), so
    /// some traces are decided and stored while others are still held; after the restart the held ones are
    /// decided again.
    /// </summary>
    [Fact]
    public async Task With_tail_sampling_every_acknowledged_span_held_for_a_decision_survives_a_SIGKILL()
    {
        const string KeepAll = "export ARIADNE__Sampling__Tail__Policies__0__Name=all ARIADNE__Sampling__Tail__Policies__0__Type=always_sample " +
            "ARIADNE__Sampling__Tail__DecisionWait=00:00:01;";
        ConcurrentBag<byte[]> acknowledged;
        await using (var server = await ServerProcess.StartAsync(_data, KeepAll))
        {
            using var query = new HttpClient { BaseAddress = server.Query };
            acknowledged = await SendUntilKilledAsync(server, async () =>
                (await query.GetStringAsync("/metrics")).Split('\n').Any(line =>
                    line.StartsWith("ariadne_tail_sampling_traces_total{decision=\"kept\"", StringComparison.Ordinal) && !line.EndsWith(" 0", StringComparison.Ordinal)));
        }

        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_data, "log"), "*.wal"));
        await using var restarted = await ServerProcess.StartAsync(_data, KeepAll);
        await AssertServedAsync(restarted, acknowledged, TimeSpan.FromSeconds(30));
        Assert.Contains("held again for a tail-sampling decision", restarted.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// SIGTERM under load with tail policies on: the server stops taking requests, finishes those in flight, writes
    /// what it holds and exits 0; the next start finds no unfinished block, and every acknowledged span is served.
    /// </summary>
    [Fact]
    public async Task SIGTERM_under_load_exits_0_and_the_next_start_is_clean_and_serves_every_acknowledged_span()
    {
        const string KeepAll = "export ARIADNE__Sampling__Tail__Policies__0__Name=all ARIADNE__Sampling__Tail__Policies__0__Type=always_sample " +
            "ARIADNE__Sampling__Tail__DecisionWait=00:00:01;";
        ConcurrentBag<byte[]> acknowledged;
        var exitCode = -1;
        string output;
        await using (var server = await ServerProcess.StartAsync(_data, KeepAll))
        {
            acknowledged = await SendUntilKilledAsync(server, killWhen: null, stop: async () => exitCode = await server.TerminateAsync());
            output = server.Output;
        }

        Assert.True(exitCode == 0, $"exit code {exitCode}:{Environment.NewLine}{output}");
        await using var restarted = await ServerProcess.StartAsync(_data, KeepAll);
        await AssertServedAsync(restarted, acknowledged, TimeSpan.FromSeconds(30));
        Assert.DoesNotContain("unfinished", restarted.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("did not finish", restarted.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Four senders post traces until at least 600 are acknowledged and <paramref name="killWhen"/> (if given) holds,
    /// then the server is stopped: SIGKILL, or <paramref name="stop"/>.
    /// </summary>
    private static async Task<ConcurrentBag<byte[]>> SendUntilKilledAsync(ServerProcess server, Func<Task<bool>>? killWhen, Func<Task>? stop = null)
    {
        var acknowledged = new ConcurrentBag<byte[]>();
        using var http = new HttpClient { BaseAddress = server.OtlpHttp };
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopSending = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 4).Select(sender => Task.Run(async () =>
        {
            var random = new Random(sender);
            while (!stopSending.IsCancellationRequested)
            {
                var traces = new[] { RandomId(random, 16), RandomId(random, 16) };
                try
                {
                    using var response = await PostAsync(http, Request(traces), stopSending.Token);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        foreach (var trace in traces)
                        {
                            acknowledged.Add(trace);
                        }

                        if (acknowledged.Count >= 600)
                        {
                            enough.TrySetResult();
                        }
                    }
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                    // The server died under this request: it was never acknowledged.
                    return;
                }
            }
        })).ToList();

        await Task.WhenAny(enough.Task, Task.WhenAll(senders));
        Assert.True(enough.Task.IsCompleted, $"the senders stopped before 600 traces were acknowledged:{Environment.NewLine}{server.Output}");
        if (killWhen is not null)
        {
            await Poll.UntilAsync(killWhen, "the server to report kept tail-sampling decisions");
        }

        await (stop?.Invoke() ?? server.KillAsync());
        await stopSending.CancelAsync();
        await Task.WhenAll(senders);
        return acknowledged;
    }

    /// <summary>Every acknowledged trace is served whole, within <paramref name="decisions"/> for traces held for a decision.</summary>
    private static async Task AssertServedAsync(ServerProcess server, ConcurrentBag<byte[]> acknowledged, TimeSpan decisions)
    {
        using var query = new HttpClient { BaseAddress = server.Query };
        var deadline = DateTime.UtcNow + decisions;
        var missing = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(acknowledged, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (trace, ct) =>
        {
            var hex = Convert.ToHexStringLower(trace);
            var spans = 0;
            try
            {
                // Held traces reach storage once their decision is made: poll until the trace is whole (or too big).
                await Poll.UntilAsync(async () =>
                {
                    using var response = await query.GetAsync($"/api/traces/{hex}", ct);
                    spans = response.StatusCode == HttpStatusCode.OK
                        ? JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!["data"]![0]!["spans"]!.AsArray().Count
                        : 0;
                    return spans >= SpansPerTrace;
                }, $"trace {hex}", deadline - DateTime.UtcNow);
            }
            catch (TimeoutException)
            {
                // Reported below with the span count it reached.
            }

            if (spans != SpansPerTrace)
            {
                missing.Add($"{hex} ({spans} of {SpansPerTrace} spans)");
            }
        });
        Assert.True(missing.IsEmpty, $"{missing.Count} of {acknowledged.Count} acknowledged traces incomplete after the restart: {string.Join(", ", missing.Take(10))}");
    }

    [Fact]
    public async Task A_disk_that_refuses_writes_gets_503_with_Retry_After_and_Unavailable_and_ingest_resumes_when_space_returns()
    {
        // A soft RLIMIT_FSIZE makes every write past 512 KiB fail with EFBIG, as a full disk fails with ENOSPC, for this
        // process only; SIGXFSZ is ignored so the write returns the error instead of killing the process. The
        // runtime's W^X double mapping sizes a memory file past any small limit, so it is off for this process.
        await using var server = await ServerProcess.StartAsync(_data, "trap '' XFSZ; ulimit -S -f 512; export DOTNET_EnableWriteXorExecute=0;");
        using var http = new HttpClient { BaseAddress = server.OtlpHttp };
        var random = new Random(5);
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 5000 && refused is null; i++)
        {
            var response = await PostAsync(http, Request([RandomId(random, 16)]), CancellationToken.None);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                response.Dispose();
                continue;
            }

            refused = response;
        }

        Assert.NotNull(refused);
        using (refused)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
            var status = Google.Rpc.Status.Parser.ParseFrom(await refused.Content.ReadAsByteArrayAsync());
            Assert.Equal((int)StatusCode.Unavailable, status.Code);
            Assert.Contains("free disk space", status.Message, StringComparison.Ordinal);
        }

        using (var channel = GrpcChannel.ForAddress(server.OtlpGrpc))
        {
            var client = new TraceService.TraceServiceClient(channel);
            var error = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(Request([RandomId(random, 16)])));
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
            var details = Google.Rpc.Status.Parser.ParseFrom(error.Trailers.GetValueBytes("grpc-status-details-bin"));
            Assert.Equal(5, Assert.Single(details.Details).Unpack<Google.Rpc.RetryInfo>().RetryDelay.Seconds);
        }

        using (var lift = System.Diagnostics.Process.Start("prlimit", ["--pid", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--fsize=unlimited"]))
        {
            await lift.WaitForExitAsync();
            Assert.Equal(0, lift.ExitCode);
        }

        var trace = RandomId(random, 16);
        using (var accepted = await PostAsync(http, Request([trace]), CancellationToken.None))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        using var query = new HttpClient { BaseAddress = server.Query };
        var body = JsonNode.Parse(await query.GetStringAsync($"/api/traces/{Convert.ToHexStringLower(trace)}"))!;
        Assert.Equal(SpansPerTrace, body["data"]![0]!["spans"]!.AsArray().Count);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // A killed server's files may still be closing; the OS temp cleaner takes them later.
        }
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, ExportTraceServiceRequest request, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(request.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return await http.PostAsync("/v1/traces", content, cancellationToken);
    }

    /// <summary>One resource, <see cref="SpansPerTrace"/> spans per trace id: a root and its children.</summary>
    private static ExportTraceServiceRequest Request(IEnumerable<byte[]> traces)
    {
        var scope = new PTrace.ScopeSpans();
        var random = new Random();
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        foreach (var trace in traces)
        {
            var root = RandomId(random, 8);
            for (var i = 0; i < SpansPerTrace; i++)
            {
                var span = new PTrace.Span
                {
                    TraceId = ByteString.CopyFrom(trace),
                    SpanId = ByteString.CopyFrom(i == 0 ? root : RandomId(random, 8)),
                    ParentSpanId = i == 0 ? ByteString.Empty : ByteString.CopyFrom(root),
                    Name = i == 0 ? "POST /checkout" : "SELECT orders",
                    Kind = i == 0 ? PTrace.Span.Types.SpanKind.Server : PTrace.Span.Types.SpanKind.Client,
                    StartTimeUnixNano = now + (ulong)i * 1000,
                    EndTimeUnixNano = now + 5_000_000,
                };
                span.Attributes.Add(new PCommon.KeyValue { Key = "http.route", Value = new PCommon.AnyValue { StringValue = "/checkout" } });
                scope.Spans.Add(span);
            }
        }

        var resource = new PResource.Resource();
        resource.Attributes.Add(new PCommon.KeyValue { Key = "service.name", Value = new PCommon.AnyValue { StringValue = "crash-test" } });
        var resourceSpans = new PTrace.ResourceSpans { Resource = resource };
        resourceSpans.ScopeSpans.Add(scope);
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(resourceSpans);
        return request;
    }

    private static byte[] RandomId(Random random, int length)
    {
        var id = new byte[length];
        random.NextBytes(id);
        return id;
    }
}
