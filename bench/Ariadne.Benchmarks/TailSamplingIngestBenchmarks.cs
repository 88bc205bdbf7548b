using Ariadne.Analysis;
using Ariadne.Model;
using Ariadne.Operations;
using Ariadne.Pipeline;
using Ariadne.Sampling;
using Ariadne.Sampling.Adaptive;
using Ariadne.Sampling.Tail;
using Ariadne.Storage.Memory;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace Ariadne.Benchmarks;

/// <summary>
/// The ingest pipeline after decoding (validation, aggregators, tail sampling, memory store), with tail sampling
/// off, and on with a realistic policy set. Each invocation ingests 1,000 requests of 100 spans (10 traces of 10
/// spans, e-commerce shaped), as new span objects with fresh trace ids, at full speed: the 10 s decision wait holds far more than
/// MaxTraces (50,000) at this rate, so the buffer stays full and the ingest path also pays for the early decisions,
/// which is the tail sampler's worst case.
/// </summary>
[MemoryDiagnoser]
public class TailSamplingIngestBenchmarks
{
    private const int Requests = 1000;
    private const int TracesPerRequest = 10;
    private const int SpansPerTrace = 10;

    private IngestPipeline _pipeline = null!;
    private TailSampler _sampler = null!;
    private ThroughputAggregator _throughput = null!;
    private Span[][] _requests = null!;
    private ulong _nextId;

    /// <summary>off: tail sampling disabled. keep-all: policies that keep every trace (buffering, no storage saved).
    /// policies: errors + slow + business attribute + 10% probabilistic.</summary>
    [Params("off", "keep-all", "policies")]
    public string Tail { get; set; } = "off";

    [GlobalSetup]
    public void Setup()
    {
        var options = new SamplingOptions();
        switch (Tail)
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
                    new() { Name = "slow", Type = "latency", Latency = new() { Threshold_Ms = 800 } },
                    new() { Name = "payment", Type = "string_attribute", String_Attribute = new() { Key = "payment.id" } },
                    new() { Name = "rest", Type = "probabilistic", Probabilistic = new() { Sampling_Percentage = 10 } },
                ]);
                break;
        }

        var registry = Metrics.NewCustomRegistry();
        var store = new MemorySpanStore(100_000);
        _throughput = new ThroughputAggregator(options, TimeProvider.System);
        _sampler = new TailSampler(options, store, new TailSamplingMetrics(registry), TimeProvider.System, NullLogger<TailSampler>.Instance);
        _sampler.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        _pipeline = new IngestPipeline(new IngestMetrics(registry), [new SpanMetricsAggregator(registry), _throughput], _sampler);
        _requests = Enumerable.Range(0, Requests).Select(BuildRequest).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sampler.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _throughput.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Requests * TracesPerRequest * SpansPerTrace)]
    public async Task IngestSpan()
    {
        foreach (var request in _requests)
        {
            // New span objects per request, as a receiver decodes them: held and stored spans are never touched again.
            var batch = new SpanBatch();
            for (var i = 0; i < request.Length; i += SpansPerTrace)
            {
                var traceId = new TraceId(0x5eed, ++_nextId);
                for (var j = i; j < i + SpansPerTrace; j++)
                {
                    var template = request[j];
                    batch.Spans.Add(new Span
                    {
                        TraceId = traceId,
                        SpanId = template.SpanId,
                        ParentSpanId = template.ParentSpanId,
                        Name = template.Name,
                        Kind = template.Kind,
                        StartTimeUnixNano = template.StartTimeUnixNano,
                        EndTimeUnixNano = template.EndTimeUnixNano,
                        StatusCode = template.StatusCode,
                        Attributes = template.Attributes,
                        Resource = template.Resource,
                    });
                }
            }

            await _pipeline.IngestAsync("default", "bench", batch, CancellationToken.None);
        }
    }

    private static Span[] BuildRequest(int index)
    {
        string[] services = ["gateway", "orders", "inventory", "payments", "notifications"];
        var resources = services.Select(s => new Resource { ServiceName = s }).ToArray();
        var random = new Random(index);
        var spans = new Span[TracesPerRequest * SpansPerTrace];
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        for (var t = 0; t < TracesPerRequest; t++)
        {
            var rootId = new SpanId((ulong)random.NextInt64(1, long.MaxValue));
            for (var s = 0; s < SpansPerTrace; s++)
            {
                var service = s % services.Length;
                var duration = random.Next(1, 400) * 1_000_000L;
                spans[(t * SpansPerTrace) + s] = new Span
                {
                    SpanId = s == 0 ? rootId : new SpanId((ulong)random.NextInt64(1, long.MaxValue)),
                    ParentSpanId = s == 0 ? default : rootId,
                    Name = s == 0 ? "POST /checkout" : $"{services[service]} call {s}",
                    Kind = s == 0 ? SpanKind.Server : SpanKind.Client,
                    StartTimeUnixNano = now,
                    EndTimeUnixNano = now + duration,
                    StatusCode = random.Next(100) == 0 ? StatusCode.Error : StatusCode.Unset,
                    Attributes =
                    [
                        KeyValue.String("http.route", "/checkout"),
                        KeyValue.Int("http.status_code", 200),
                        KeyValue.String("customer.tier", random.Next(10) == 0 ? "gold" : "silver"),
                    ],
                    Resource = resources[service],
                };
            }
        }

        return spans;
    }
}
