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
/// On ClickHouse the minute feed counts calls and edges before sampling into <c>call_minutes</c> and
/// <c>edge_minutes</c>, every node its own traces (in cluster mode a node's aggregators count only the traces it
/// owns). There dependencies and RED are read from those tables for the whole window, whatever the sampling, and
/// every node gives the same answer.
/// </para>
/// </summary>
public sealed class PreSamplingFigures(ISpanStore store, SpanMetricsAggregator metrics, ServiceGraphAggregator graph, TailSampler sampler, TimeProvider time)
{
    /// <summary>The store when it holds the minute tables (ClickHouse with its minute feed), null otherwise.</summary>
    private Storage.ClickHouse.ClickHouseSpanStore? MinuteTables => store as Storage.ClickHouse.ClickHouseSpanStore is { HasMinuteFeed: true } clickHouse ? clickHouse : null;

    /// <summary>Calls between services (<c>/api/dependencies</c>, the service map).</summary>
    public async ValueTask<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken)
    {
        var start = endTime - lookback;
        if (MinuteTables is not null || CountedFrom(start, endTime) is not { } counted)
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
    /// requests, rate, errors and percentiles counted before sampling for the part of the window the aggregators (or
    /// ClickHouse's <c>call_minutes</c>) hold; requests and errors of the part before come from storage, the
    /// percentiles from the counted part alone. The charts stay those of the stored sample.
    /// </summary>
    public async ValueTask<ServiceOverview> CorrectAsync(string tenant, ServiceOverview overview, IReadOnlyList<IReadOnlyList<Span>> stored, int bucketCount, CancellationToken cancellationToken)
    {
        var start = FromNanos(overview.StartNanos);
        var end = FromNanos(overview.EndNanos);
        var minuteTables = MinuteTables;
        if (CountedFrom(start, end, minuteTables is not null) is not { } counted)
        {
            return overview;
        }

        var earlier = counted.Time > start
            ? OperationStatsCalculator.Compute(overview.Service, stored, overview.StartNanos, TraceQueryService.ToNanos(counted.Time) - 1, 1, overview.Truncated)
                .Operations.ToDictionary(o => (o.Operation, o.Kind))
            : [];
        var seconds = Math.Max(1, (end - start).TotalSeconds);
        var charts = overview.Operations.ToDictionary(o => (o.Operation, o.Kind), o => o.Buckets);
        var toMinute = MinuteRing.MinuteBeginningAtOrAfter(end);
        var windows = minuteTables is null
            ? metrics.Operations(tenant, overview.Service, counted.Minute, toMinute)
            : (await minuteTables.CallMinutesAsync(tenant, overview.Service, null, counted.Minute, toMinute, cancellationToken))
                .Where(o => o.Value.Calls > 0).ToDictionary(o => o.Key, o => o.Value.ToRed());
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

    /// <summary>
    /// Where in [start, end) the counted minutes begin (a whole minute): the aggregators' since they began counting, the
    /// minute tables' from the window's first whole minute; null when storage answers alone.
    /// </summary>
    private (DateTimeOffset Time, long Minute)? CountedFrom(DateTimeOffset start, DateTimeOffset end, bool minuteTables = false)
    {
        if (!minuteTables && !sampler.Buffering)
        {
            return null;
        }

        var minute = minuteTables
            ? MinuteRing.MinuteBeginningAtOrAfter(start)
            : Math.Max(MinuteRing.MinuteBeginningAtOrAfter(start), MinuteRing.FirstCountedMinute(graph.CountingSince, time.GetUtcNow()));
        var at = FromMinute(minute);
        return at < end ? (at, minute) : null;
    }

    private static DateTimeOffset FromMinute(long minute) => DateTimeOffset.FromUnixTimeSeconds(minute * 60);

    private static DateTimeOffset FromNanos(long nanos) => DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);
}
