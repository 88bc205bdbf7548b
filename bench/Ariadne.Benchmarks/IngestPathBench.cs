using System.Diagnostics;
using System.Globalization;
using Ariadne.Analysis;
using Ariadne.Configuration;
using Ariadne.LoadGen;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp.Protobuf;
using Ariadne.Sampling;
using Ariadne.Sampling.Adaptive;
using Ariadne.Sampling.Tail;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Memory;
using Ariadne.Operations;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace Ariadne.Benchmarks;

/// <summary>
/// The server's ingest path in one process, without the network: the load generator's OTLP requests (fresh trace
/// ids and times per send) decoded by the OTLP protobuf decoder and handed to the real <see cref="IngestPipeline"/>,
/// with its aggregators, over the embedded engine (ingest log, fsync before the answer, head, block cuts) or the
/// memory engine. Reports spans/s, CPU µs/span, bytes allocated per span, GC collections by generation and the share
/// of time the GC paused the process: where the durable path's cost over the memory engine's goes.
/// Usage: <c>ingest-path [embedded|memory ...] [--seconds N] [--writers N] [--spans-per-request N]</c>.
/// </summary>
internal static class IngestPathBench
{
    public static async Task RunAsync(string[] args)
    {
        var engines = args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).DefaultIfEmpty("embedded").ToArray();
        var seconds = int.Parse(Option(args, "--seconds") ?? "15", CultureInfo.InvariantCulture);
        var writers = int.Parse(Option(args, "--writers") ?? "4", CultureInfo.InvariantCulture);
        var spansPerRequest = int.Parse(Option(args, "--spans-per-request") ?? "512", CultureInfo.InvariantCulture);
        var payloads = LoadGenerator.Prepare(new LoadGenOptions { Target = new Uri("http://unused"), SpansPerRequest = spansPerRequest }, DateTimeOffset.UtcNow);
        Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
        foreach (var engine in engines)
        {
            await RunEngineAsync(engine, payloads, writers, TimeSpan.FromSeconds(seconds));
        }

        Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static async Task RunEngineAsync(string engine, OtlpPayload[] payloads, int writers, TimeSpan duration)
    {
        var directory = Directory.CreateTempSubdirectory("ariadne-ingest-path-").FullName;
        var registry = Metrics.NewCustomRegistry();
        var sampling = new SamplingOptions();
        sampling.Tail.Enabled = false;
        ISpanStore store = engine switch
        {
            "embedded" => EmbeddedSpanStore.Open(Path.Combine(directory, "data"), new EmbeddedStorageOptions(), TimeProvider.System, NullLogger.Instance),
            "memory" => new MemorySpanStore(1_000_000),
            _ => throw new ArgumentException($"engine {engine}: use embedded or memory."),
        };
        using var throughput = new ThroughputAggregator(sampling, TimeProvider.System);
        var resolver = new Ariadne.Tenancy.TenantResolver(new Ariadne.Tenancy.TenancyOptions());
        var pipeline = new IngestPipeline(new IngestMetrics(registry),
            [new SpanMetricsAggregator(registry), new ServiceGraphAggregator(registry, TimeProvider.System), throughput],
            new TailSampler(sampling, new TailSamplingMetrics(registry), TimeProvider.System),
            new Ariadne.Limits.TenantRateLimiter(resolver, new Ariadne.Limits.LimitsOptions(), TimeProvider.System),
            new Ariadne.Limits.SpanLimiter(resolver, new Ariadne.Limits.LimitsOptions(), TimeProvider.System), store,
            engine == "embedded" ? Path.Combine(directory, "data", IngestPipeline.LogDirectoryName) : null, new IngestOptions(), NullLogger<IngestPipeline>.Instance);

        long spans = 0, refused = 0;
        var process = Process.GetCurrentProcess();
        GC.Collect();
        var gcBefore = (Gen0: GC.CollectionCount(0), Gen1: GC.CollectionCount(1), Gen2: GC.CollectionCount(2));
        var pausedBefore = GC.GetTotalPauseDuration();
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var traceIds = (ulong)Environment.TickCount64 << 24;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var buffer = new byte[payloads.Max(p => p.Length)];
            for (var request = w; clock.Elapsed < duration; request += writers)
            {
                var payload = payloads[request % payloads.Length];
                var length = payload.Stamp(buffer, (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100,
                    () => new TraceId(0xbe4c, Interlocked.Increment(ref traceIds)));
                var batch = new SpanBatch();
                OtlpProtobufTraceDecoder.Decode(buffer.AsSpan(0, length), batch);
                var result = await pipeline.IngestAsync("default", "bench", batch, CancellationToken.None);
                Interlocked.Add(ref spans, result.AcceptedSpans);
                if (result.Unavailable is not null)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        })));
        var elapsed = clock.Elapsed;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var paused = GC.GetTotalPauseDuration() - pausedBefore;
        var allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
        var gc = (Gen0: GC.CollectionCount(0) - gcBefore.Gen0, Gen1: GC.CollectionCount(1) - gcBefore.Gen1, Gen2: GC.CollectionCount(2) - gcBefore.Gen2);
        Console.WriteLine($"{engine,-9} {spans / elapsed.TotalSeconds,9:N0} spans/s  {cpu.TotalMicroseconds / spans,6:F2} µs CPU/span  " +
            $"{(double)allocated / spans,6:F0} B allocated/span  GC {gc.Gen0}/{gc.Gen1}/{gc.Gen2} (gen0/1/2), paused {100 * paused / elapsed:F1}% of the run  " +
            $"peak RSS {process.PeakWorkingSet64 >> 20} MB  refused {refused}");
        await pipeline.DisposeAsync();
        if (store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        Directory.Delete(directory, recursive: true);
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
