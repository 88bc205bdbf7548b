using System.Diagnostics;
using System.Globalization;
using Ariadne.Analysis;
using Ariadne.Model;
using Ariadne.Operations;
using Ariadne.Pipeline;
using Ariadne.Sampling;
using Ariadne.Sampling.Adaptive;
using Ariadne.Sampling.Tail;
using Ariadne.Storage.Memory;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace Ariadne.Benchmarks;

/// <summary>
/// The ingest pipeline after decoding (validation, span metrics, adaptive counters, tail sampling, memory store) with
/// tail sampling off and on, in one process, the modes interleaved round by round so that load from other
/// processes on the machine hits them alike. Requests of ~100 realistic spans (RealisticSpans), new span objects
/// with fresh trace ids each time, as a receiver hands them over; one writer at full speed. At that rate the 10 s
/// decision wait holds far more than MaxTraces (50,000), so the buffer stays full and the ingest path also pays for
/// the early decisions: the tail sampler's worst case. Reported per mode: median spans/s (wall) and median process
/// CPU per span (all threads: GC, the decision loop), and the ratios against off.
/// Usage: dotnet run -c Release --project bench/Ariadne.Benchmarks -- tail-sampling [rounds] [seconds]
/// </summary>
internal static class TailSamplingBench
{
    private static readonly string[] s_modes = ["off", "policies", "keep-all"];

    public static async Task RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        var templates = BuildRequests();
        var results = s_modes.ToDictionary(m => m, _ => new List<(double SpansPerSecond, double CpuNanosPerSpan)>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var mode in s_modes)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                var result = await RunModeAsync(mode, templates, TimeSpan.FromSeconds(seconds));
                results[mode].Add(result);
                Console.WriteLine($"round {round + 1} {mode,-9} {result.SpansPerSecond,10:N0} spans/s  {result.CpuNanosPerSpan,6:N0} ns CPU/span");
            }
        }

        var off = Summary(results["off"]);
        foreach (var mode in s_modes)
        {
            var (rate, cpu) = Summary(results[mode]);
            Console.WriteLine($"{mode,-9} median {rate:N0} spans/s ({rate / off.Rate:P0} of off), {cpu:N0} ns CPU/span (off/this {off.Cpu / cpu:P0})");
        }
    }

    private static (double Rate, double Cpu) Summary(List<(double SpansPerSecond, double CpuNanosPerSpan)> runs) =>
        (Median(runs.Select(r => r.SpansPerSecond)), Median(runs.Select(r => r.CpuNanosPerSpan)));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static async Task<(double SpansPerSecond, double CpuNanosPerSpan)> RunModeAsync(string mode, List<List<List<Span>>> templates, TimeSpan duration)
    {
        var options = new SamplingOptions();
        switch (mode)
        {
            case "off":
                options.Tail.Enabled = false;
                break;
            case "keep-all":
                options.Tail.Policies.Add(new TailPolicyOptions { Name = "all", Type = "always_sample" });
                break;
            default:
                options.Tail.Policies.AddRange(
                [
                    new() { Name = "slow", Type = "latency", Latency = new() { Threshold_Ms = 1_000 } },
                    new() { Name = "payment", Type = "string_attribute", String_Attribute = new() { Key = "payment.id" } },
                    new() { Name = "checkout", Type = "string_attribute", String_Attribute = new() { Key = "http.route", Values = ["/checkout"] } },
                    new() { Name = "rest", Type = "probabilistic", Probabilistic = new() { Sampling_Percentage = 10 } },
                ]);
                break;
        }

        var registry = Metrics.NewCustomRegistry();
        var store = new MemorySpanStore(100_000);
        using var throughput = new ThroughputAggregator(options, TimeProvider.System);
        var sampler = new TailSampler(options, new TailSamplingMetrics(registry), TimeProvider.System);
        // No ingest rate limit (the default): the bench measures the pipeline, not the limiter.
        var rates = new Ariadne.Limits.TenantRateLimiter(new Ariadne.Tenancy.TenantResolver(new Ariadne.Tenancy.TenancyOptions()), new Ariadne.Limits.LimitsOptions(), TimeProvider.System);
        // The span limits at their defaults, as the server runs them.
        var limits = new Ariadne.Limits.SpanLimiter(new Ariadne.Tenancy.TenantResolver(new Ariadne.Tenancy.TenancyOptions()), new Ariadne.Limits.LimitsOptions(), TimeProvider.System);
        await using var pipeline = new IngestPipeline(new IngestMetrics(registry), [new SpanMetricsAggregator(registry), throughput], sampler, rates, limits, store,
            logDirectory: null, new Ariadne.Configuration.IngestOptions(), NullLogger<IngestPipeline>.Instance);

        ulong nextId = (ulong)Environment.TickCount64 << 20;
        long spans = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var request = 0;
        while (watch.Elapsed < duration)
        {
            var batch = new SpanBatch();
            foreach (var trace in templates[request++ % templates.Count])
            {
                var traceId = new TraceId(0x5eed, ++nextId);
                foreach (var t in trace)
                {
                    batch.Spans.Add(new Span
                    {
                        TraceId = traceId, SpanId = t.SpanId, ParentSpanId = t.ParentSpanId, Name = t.Name, Kind = t.Kind,
                        StartTimeUnixNano = t.StartTimeUnixNano, EndTimeUnixNano = t.EndTimeUnixNano, StatusCode = t.StatusCode,
                        Attributes = t.Attributes, Events = t.Events, Resource = t.Resource, Scope = t.Scope,
                    });
                }
            }

            spans += batch.Spans.Count;
            await pipeline.IngestAsync("default", "bench", batch, CancellationToken.None);
        }

        var elapsed = watch.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds * 1000;
        return (spans / elapsed, cpu / spans);
    }

    /// <summary>2,000 requests of whole realistic traces, about 100 spans each.</summary>
    private static List<List<List<Span>>> BuildRequests()
    {
        var generator = new RealisticSpans(17, DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromMinutes(1));
        var requests = new List<List<List<Span>>>();
        for (var r = 0; r < 2_000; r++)
        {
            var request = new List<List<Span>>();
            for (var count = 0; count < 100;)
            {
                var trace = generator.NextTrace();
                request.Add(trace);
                count += trace.Count;
            }

            requests.Add(request);
        }

        return requests;
    }
}
