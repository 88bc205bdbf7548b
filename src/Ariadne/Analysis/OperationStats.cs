using Ariadne.Model;

namespace Ariadne.Analysis;

/// <summary>Requests, errors and a latency percentile in one slice of the window (for the small charts).</summary>
public readonly record struct StatsBucket(long StartNanos, int Count, int Errors, long P90Nanos);

/// <summary>RED figures for one operation of a service over a window.</summary>
public sealed record OperationStats(
    string Operation,
    SpanKind Kind,
    int Count,
    int Errors,
    double RatePerSecond,
    long P50Nanos,
    long P90Nanos,
    long P99Nanos,
    IReadOnlyList<StatsBucket> Buckets)
{
    public double ErrorRate => Count == 0 ? 0 : (double)Errors / Count;
}

/// <summary>
/// Per-operation RED of a service, computed from stored spans. <see cref="Truncated"/> says the store returned as
/// many traces as asked for, so the figures describe the most recent traces of the window, not all of it.
/// </summary>
public sealed record ServiceOverview(
    string Service,
    long StartNanos,
    long EndNanos,
    int TracesExamined,
    bool Truncated,
    IReadOnlyList<OperationStats> Operations)
{
    /// <summary>Requests, errors and percentiles were counted from every span before tail sampling (<see cref="PreSamplingFigures"/>).</summary>
    public bool CountedBeforeSampling { get; init; }
}

public static class OperationStatsCalculator
{
    public static ServiceOverview Compute(
        string service, IReadOnlyList<IReadOnlyList<Span>> traces, long startNanos, long endNanos, int bucketCount, bool truncated)
    {
        var windowNanos = Math.Max(1, endNanos - startNanos);
        var bucketNanos = SliceNanos(startNanos, endNanos, bucketCount);
        var seconds = windowNanos / 1e9;
        var operations = traces.SelectMany(t => t)
            .Where(s => string.Equals(s.ServiceName, service, StringComparison.Ordinal)
                && s.StartTimeUnixNano >= startNanos && s.StartTimeUnixNano <= endNanos)
            .GroupBy(s => (s.Name, s.Kind))
            .Select(g =>
            {
                var spans = g.ToList();
                var durations = spans.Select(s => s.DurationNanos).Order().ToArray();
                var buckets = Slices(startNanos, endNanos, bucketCount);
                foreach (var slice in spans.GroupBy(s => (int)Math.Min(bucketCount - 1, (s.StartTimeUnixNano - startNanos) / bucketNanos)))
                {
                    var sliceDurations = slice.Select(s => s.DurationNanos).Order().ToArray();
                    buckets[slice.Key] = buckets[slice.Key] with { Count = sliceDurations.Length, Errors = slice.Count(s => s.IsError), P90Nanos = Percentile(sliceDurations, 0.90) };
                }

                return new OperationStats(
                    g.Key.Name, g.Key.Kind, spans.Count, spans.Count(s => s.IsError), spans.Count / seconds,
                    Percentile(durations, 0.50), Percentile(durations, 0.90), Percentile(durations, 0.99), buckets);
            })
            .OrderByDescending(o => o.Count).ThenBy(o => o.Operation, StringComparer.Ordinal)
            .ToList();
        return new ServiceOverview(service, startNanos, endNanos, traces.Count, truncated, operations);
    }

    /// <summary>The window cut into <paramref name="bucketCount"/> empty slices (the last may be shorter).</summary>
    public static StatsBucket[] Slices(long startNanos, long endNanos, int bucketCount)
    {
        var sliceNanos = SliceNanos(startNanos, endNanos, bucketCount);
        return Enumerable.Range(0, bucketCount).Select(i => new StatsBucket(startNanos + i * sliceNanos, 0, 0, 0)).ToArray();
    }

    private static long SliceNanos(long startNanos, long endNanos, int bucketCount)
    {
        var windowNanos = Math.Max(1, endNanos - startNanos);
        return Math.Max(1, windowNanos / bucketCount + (windowNanos % bucketCount == 0 ? 0 : 1));
    }

    /// <summary>Nearest-rank percentile of sorted values; 0 when there are none.</summary>
    public static long Percentile(long[] sorted, double quantile)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(quantile * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
