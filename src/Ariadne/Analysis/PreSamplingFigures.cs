using Ariadne.Sampling.Tail;
using Ariadne.Storage;

namespace Ariadne.Analysis;

/// <summary>
/// While tail sampling keeps only a sample, figures counted from stored spans are off: calls are undercounted and
/// error rates overstated (every error trace is kept, a fraction of the rest). For a window inside the recent minutes
/// the aggregators counted from every span before sampling (<see cref="SpanMetricsAggregator"/>,
/// <see cref="ServiceGraphAggregator"/>), the calls between services and each operation's requests, errors and
/// latency come from those, as alert rules read them. Other windows, and every window while storage keeps every
/// span, are answered from storage.
/// </summary>
public sealed class PreSamplingFigures(ISpanStore store, SpanMetricsAggregator metrics, ServiceGraphAggregator graph, TailSampler sampler, TimeProvider time)
{
    /// <summary>Calls between services (<c>/api/dependencies</c>, the service map).</summary>
    public ValueTask<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken)
    {
        var start = endTime - lookback;
        if (!Covers(start))
        {
            return store.GetDependenciesAsync(tenant, endTime, lookback, cancellationToken);
        }

        return ValueTask.FromResult(graph.Dependencies(tenant, MinuteRing.MinuteBeginningAtOrAfter(start), MinuteRing.MinuteBeginningAtOrAfter(endTime)));
    }

    /// <summary>
    /// The overview with each operation's requests, rate, errors and percentiles counted before sampling, where it
    /// covers the window; its charts stay those of the stored sample.
    /// </summary>
    public ServiceOverview Correct(string tenant, ServiceOverview overview, int bucketCount)
    {
        var start = DateTimeOffset.UnixEpoch.AddTicks(overview.StartNanos / 100);
        var end = DateTimeOffset.UnixEpoch.AddTicks(overview.EndNanos / 100);
        if (!Covers(start))
        {
            return overview;
        }

        var fromMinute = MinuteRing.MinuteBeginningAtOrAfter(start);
        var seconds = Math.Max(1, (end - DateTimeOffset.FromUnixTimeSeconds(fromMinute * 60)).TotalSeconds);
        var stored = overview.Operations.ToDictionary(o => (o.Operation, o.Kind));
        var operations = metrics.Operations(tenant, overview.Service, fromMinute, MinuteRing.MinuteBeginningAtOrAfter(end))
            .Select(counted => new OperationStats(
                counted.Key.Operation, counted.Key.Kind, (int)counted.Value.Requests, (int)counted.Value.Errors, counted.Value.Requests / seconds,
                counted.Value.P50Nanos, counted.Value.P90Nanos, counted.Value.P99Nanos,
                stored.TryGetValue(counted.Key, out var sample) ? sample.Buckets : OperationStatsCalculator.Slices(overview.StartNanos, overview.EndNanos, bucketCount)))
            .OrderByDescending(o => o.Count).ThenBy(o => o.Operation, StringComparer.Ordinal)
            .ToList();
        return overview with { Operations = operations, CountedBeforeSampling = true };
    }

    private bool Covers(DateTimeOffset start) => sampler.Buffering && MinuteRing.Covers(graph.CountingSince, time.GetUtcNow(), start);
}
