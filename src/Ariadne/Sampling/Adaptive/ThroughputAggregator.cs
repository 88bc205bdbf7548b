using System.Collections.Concurrent;
using Ariadne.Model;
using Ariadne.Pipeline;

namespace Ariadne.Sampling.Adaptive;

/// <summary>Root spans of one operation in one interval, as they arrived (after head sampling, before tail sampling).</summary>
/// <param name="Count">Root spans seen.</param>
/// <param name="KnownWeight">Sum of 1/p over the root spans whose head-sampling probability p the span told.</param>
/// <param name="UnknownCount">Root spans that did not tell; the consumer corrects them with what it served.</param>
public readonly record struct OperationThroughput(string Tenant, string Service, string Operation, long Count, double KnownWeight, long UnknownCount)
{
    /// <summary>Traces the operation started, estimated from the sampled ones (Horvitz-Thompson).</summary>
    public double EstimatedTraces(double servedProbability) => KnownWeight + (UnknownCount / Math.Max(servedProbability, 1e-12));
}

/// <summary>One closed counting interval.</summary>
public sealed record ThroughputInterval(DateTimeOffset End, TimeSpan Length, IReadOnlyList<OperationThroughput> Operations);

/// <summary>
/// Counts root spans per tenant, service and operation, as Jaeger's adaptive-sampling aggregator does, but before
/// any server-side sampling and with the SDK's probability where the span carries it. Every calculation interval it
/// closes the counts and hands them to <see cref="IntervalClosed"/> (adaptive sampling) and <see cref="Last"/>
/// (the sampling API).
/// </summary>
public sealed class ThroughputAggregator : IIngestAggregator, IDisposable
{
    // Bounds memory when span names are unbounded (ids in names); later operations are not counted until a slot frees.
    private const int MaxOperations = 20_000;
    private const double WeightScale = 1_000_000;

    private readonly ConcurrentDictionary<OperationKey, Counter> _counters = new();
    private readonly TimeProvider _timeProvider;
    private readonly ITimer _timer;
    private readonly Lock _closeLock = new();
    private DateTimeOffset _intervalStart;

    public ThroughputAggregator(SamplingOptions options, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _intervalStart = timeProvider.GetUtcNow();
        var interval = options.Adaptive.CalculationInterval;
        _timer = timeProvider.CreateTimer(_ => CloseInterval(), null, interval, interval);
    }

    public event Action<ThroughputInterval>? IntervalClosed;

    public ThroughputInterval? Last { get; private set; }

    public void Observe(string tenant, IReadOnlyList<Span> spans)
    {
        for (var i = 0; i < spans.Count; i++)
        {
            var span = spans[i];
            if (!span.IsRoot || span.Name.Length == 0)
            {
                continue;
            }

            var key = new OperationKey(tenant, span.ServiceName, span.Name);
            if (!_counters.TryGetValue(key, out var counter))
            {
                if (_counters.Count >= MaxOperations)
                {
                    continue;
                }

                counter = _counters.GetOrAdd(key, static _ => new Counter());
            }

            counter.Record(HeadSamplingProbability.Read(span));
        }
    }

    /// <summary>Closes the current interval now (the timer does this every calculation interval).</summary>
    public ThroughputInterval CloseInterval()
    {
        ThroughputInterval interval;
        lock (_closeLock)
        {
            var now = _timeProvider.GetUtcNow();
            var operations = new List<OperationThroughput>(_counters.Count);
            foreach (var (key, counter) in _counters)
            {
                var (count, weight, unknown) = counter.Drain();
                if (count == 0)
                {
                    // Idle operations give their slot back; a span arriving in between re-creates the counter.
                    _counters.TryRemove(new KeyValuePair<OperationKey, Counter>(key, counter));
                    continue;
                }

                operations.Add(new OperationThroughput(key.Tenant, key.Service, key.Operation, count, weight / WeightScale, unknown));
            }

            interval = new ThroughputInterval(now, now - _intervalStart, operations);
            _intervalStart = now;
            Last = interval;
        }

        IntervalClosed?.Invoke(interval);
        return interval;
    }

    public void Dispose() => _timer.Dispose();

    private readonly record struct OperationKey(string Tenant, string Service, string Operation);

    private sealed class Counter
    {
        private long _count;
        private long _weight;
        private long _unknown;

        public void Record(double? probability)
        {
            Interlocked.Increment(ref _count);
            if (probability is { } p)
            {
                Interlocked.Add(ref _weight, (long)(WeightScale / p));
            }
            else
            {
                Interlocked.Increment(ref _unknown);
            }
        }

        public (long Count, long Weight, long Unknown) Drain() =>
            (Interlocked.Exchange(ref _count, 0), Interlocked.Exchange(ref _weight, 0), Interlocked.Exchange(ref _unknown, 0));
    }
}
