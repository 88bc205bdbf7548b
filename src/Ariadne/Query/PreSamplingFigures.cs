using Ariadne.Analysis;
using Ariadne.Model;
using Ariadne.Sampling.Tail;
using Ariadne.Storage;

namespace Ariadne.Query;

/// <summary>
/// While tail sampling keeps only a sample, figures counted from stored spans are off: calls are undercounted and
/// error rates overstated (every error trace is kept, a fraction of the rest). The aggregators count every span
/// before sampling (<see cref="SpanMetricsAggregator"/>, <see cref="ServiceGraphAggregator"/>) per minute, for the
/// last few hours since the server started; the part of a window they hold is counted from them, the part before
/// from storage. While storage keeps every span, storage answers alone.
/// <para>
/// In cluster mode a node's aggregators count only the traces it owns. ClickHouse's edge minutes are counted before
/// sampling by every node, so there dependencies are read from storage alone, and every node gives the same answer.
/// </para>
/// </summary>
public sealed class PreSamplingFigures(
    ISpanStore store, SpanMetricsAggregator metrics, ServiceGraphAggregator graph, TailSampler sampler, TimeProvider time, Configuration.AriadneOptions? options = null)
{
    private readonly bool _clusterMode = options?.Cluster.Enabled == true;

    /// <summary>Calls between services (<c>/api/dependencies</c>, the service map).</summary>
    public async ValueTask<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken)
    {
        var start = endTime - lookback;
        var clusterWide = _clusterMode && store is Storage.ClickHouse.ClickHouseSpanStore { DependenciesFromMinutes: true };
        if (clusterWide || CountedFrom(start, endTime) is not { } counted)
        {
            return await store.GetDependenciesAsync(tenant, endTime, lookback, cancellationToken);
        }

        var links = graph.Dependencies(tenant, counted.Minute, MinuteRing.MinuteBeginningAtOrAfter(endTime));
        if (counted.Time <= start)
        {
            return links;
        }

        // Before the aggregators counted: what storage holds (the window is inclusive, so a span starting on the
        // boundary minute's first tick could count twice; the boundary is a whole minute, spans land there rarely).
        var earlier = await store.GetDependenciesAsync(tenant, counted.Time, counted.Time - start, cancellationToken);
        return DependencyLink.Sum(earlier.Concat(links));
    }

    /// <summary>
    /// The overview (computed from <paramref name="stored"/>, the window's stored traces) with each operation's
    /// requests, rate, errors and percentiles counted before sampling for the part of the window the aggregators hold;
    /// requests and errors of the part before come from storage, the percentiles from the counted part alone. The
    /// charts stay those of the stored sample.
    /// </summary>
    public ServiceOverview Correct(string tenant, ServiceOverview overview, IReadOnlyList<IReadOnlyList<Span>> stored, int bucketCount)
    {
        var start = FromNanos(overview.StartNanos);
        var end = FromNanos(overview.EndNanos);
        if (CountedFrom(start, end) is not { } counted)
        {
            return overview;
        }

        var earlier = counted.Time > start
            ? OperationStatsCalculator.Compute(overview.Service, stored, overview.StartNanos, TraceQueryService.ToNanos(counted.Time) - 1, 1, overview.Truncated)
                .Operations.ToDictionary(o => (o.Operation, o.Kind))
            : [];
        var seconds = Math.Max(1, (end - start).TotalSeconds);
        var charts = overview.Operations.ToDictionary(o => (o.Operation, o.Kind), o => o.Buckets);
        var windows = metrics.Operations(tenant, overview.Service, counted.Minute, MinuteRing.MinuteBeginningAtOrAfter(end));
        var operations = windows.Keys.Union(earlier.Keys)
            .Select(key =>
            {
                var window = windows.GetValueOrDefault(key);
                var before = earlier.GetValueOrDefault(key);
                var count = (int)window.Requests + (before?.Count ?? 0);
                return new OperationStats(
                    key.Operation, key.Kind, count, (int)window.Errors + (before?.Errors ?? 0), count / seconds,
                    window.Requests > 0 ? window.P50Nanos : before!.P50Nanos,
                    window.Requests > 0 ? window.P90Nanos : before!.P90Nanos,
                    window.Requests > 0 ? window.P99Nanos : before!.P99Nanos,
                    charts.GetValueOrDefault(key) ?? OperationStatsCalculator.Slices(overview.StartNanos, overview.EndNanos, bucketCount));
            })
            .OrderByDescending(o => o.Count).ThenBy(o => o.Operation, StringComparer.Ordinal)
            .ToList();
        return overview with { Operations = operations, CountedBeforeSampling = true };
    }

    /// <summary>Where in [start, end) the aggregators' minutes begin (a whole minute); null when storage answers alone.</summary>
    private (DateTimeOffset Time, long Minute)? CountedFrom(DateTimeOffset start, DateTimeOffset end)
    {
        if (!sampler.Buffering)
        {
            return null;
        }

        var minute = Math.Max(MinuteRing.MinuteBeginningAtOrAfter(start), MinuteRing.FirstCountedMinute(graph.CountingSince, time.GetUtcNow()));
        var at = DateTimeOffset.FromUnixTimeSeconds(minute * 60);
        return at < end ? (at, minute) : null;
    }

    private static DateTimeOffset FromNanos(long nanos) => DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);
}
