using Ariadne.Model;
using Ariadne.Storage;

namespace Ariadne.Analysis;

/// <summary>
/// What the UI and <c>/api/ariadne/...</c> compute from stored spans: trace trees, critical paths, comparisons,
/// a typical trace to compare with, per-operation RED. One place, so the browser and the API show the same figures.
/// </summary>
public sealed class TraceAnalysisService(ISpanStore store, PreSamplingFigures preSampling, TimeProvider time)
{
    /// <summary>How many traces an overview or a typical-trace lookup reads at most.</summary>
    public const int SampleLimit = 5000;

    public async Task<TraceTree?> GetTraceAsync(string tenant, TraceId traceId, CancellationToken cancellationToken)
    {
        var spans = await store.GetTraceAsync(tenant, traceId, cancellationToken);
        return spans.Count == 0 ? null : TraceTree.Build(spans);
    }

    public async Task<IReadOnlyList<TraceSummary>> SearchAsync(string tenant, TraceQuery query, CancellationToken cancellationToken)
    {
        var traces = await store.FindTracesAsync(tenant, query, cancellationToken);
        return traces.Select(t => TraceSummary.From(TraceTree.Build(t))).ToList();
    }

    /// <summary>
    /// The trace of the same root service and operation whose duration is the median of those stored in the
    /// window before <paramref name="trace"/>'s end, other than <paramref name="trace"/> itself; null when none.
    /// </summary>
    public async Task<TraceSummary?> FindTypicalAsync(string tenant, TraceTree trace, TimeSpan lookback, CancellationToken cancellationToken)
    {
        if (trace.Root?.Span is not { } root)
        {
            return null;
        }

        var end = DateTimeOffset.UnixEpoch.AddTicks(trace.EndNanos / 100);
        var now = time.GetUtcNow();
        var query = new TraceQuery
        {
            ServiceName = root.ServiceName,
            OperationName = root.Name,
            StartTimeMin = end - lookback,
            StartTimeMax = now > end ? now : end,
            Limit = SampleLimit,
        };
        var candidates = (await SearchAsync(tenant, query, cancellationToken))
            .Where(s => s.TraceId != trace.TraceId
                && string.Equals(s.RootService, root.ServiceName, StringComparison.Ordinal)
                && string.Equals(s.RootOperation, root.Name, StringComparison.Ordinal))
            .OrderBy(s => s.DurationNanos)
            .ToList();
        return candidates.Count == 0 ? null : candidates[(candidates.Count - 1) / 2];
    }

    public async Task<ServiceOverview> GetOverviewAsync(string tenant, string service, TimeSpan lookback, int buckets, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var query = new TraceQuery { ServiceName = service, StartTimeMin = now - lookback, StartTimeMax = now, Limit = SampleLimit };
        var traces = await store.FindTracesAsync(tenant, query, cancellationToken);
        var overview = OperationStatsCalculator.Compute(
            service, traces, ToNanos(now - lookback), ToNanos(now), buckets, truncated: traces.Count >= SampleLimit);
        return preSampling.Correct(tenant, overview, traces, buckets);
    }

    /// <summary>What separates slow (or failed) traces through a service/operation from the rest, over the last <paramref name="lookback"/>.</summary>
    public async Task<BottleneckReport> GetBottlenecksAsync(
        string tenant, string service, string? operation, TimeSpan lookback, BottleneckSelection selection, TimeSpan? threshold, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var query = new TraceQuery { ServiceName = service, OperationName = operation, StartTimeMin = now - lookback, StartTimeMax = now, Limit = SampleLimit };
        var traces = await store.FindTracesAsync(tenant, query, cancellationToken);
        return BottleneckAnalysis.Compute(
            service, operation, traces, ToNanos(now - lookback), ToNanos(now), selection, threshold, truncated: traces.Count >= SampleLimit);
    }

    public async Task<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, TimeSpan lookback, CancellationToken cancellationToken) =>
        await preSampling.GetDependenciesAsync(tenant, time.GetUtcNow(), lookback, cancellationToken);

    public static long ToNanos(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks * 100;
}
