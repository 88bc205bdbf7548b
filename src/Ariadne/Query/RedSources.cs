using Ariadne.Alerts;
using Ariadne.Analysis;
using Ariadne.Model;
using Ariadne.Storage;

namespace Ariadne.Query;

/// <summary>
/// RED computed from stored spans of the window: exact percentiles while storage keeps every span, skewed once
/// tail sampling drops some (<see cref="SpanMetricsRedSource"/> is the server's source, with this as its fallback).
/// </summary>
public sealed class StoredSpanRedSource(ISpanStore store) : IRedSource
{
    public const int TraceLimit = 20_000;

    public async ValueTask<RedSample> GetAsync(string tenant, string service, string? operation, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var query = new TraceQuery { ServiceName = service, OperationName = operation, StartTimeMin = start, StartTimeMax = end, Limit = TraceLimit };
        var traces = await store.FindTracesAsync(tenant, query, cancellationToken);
        var startNanos = TraceQueryService.ToNanos(start);
        var endNanos = TraceQueryService.ToNanos(end);
        var durations = new List<long>();
        long errors = 0;
        foreach (var span in traces.SelectMany(t => t))
        {
            // The window is half-open, [start, end), so consecutive windows never count a span twice.
            if (string.Equals(span.ServiceName, service, StringComparison.Ordinal)
                && (operation is null || string.Equals(span.Name, operation, StringComparison.Ordinal))
                && span.StartTimeUnixNano >= startNanos && span.StartTimeUnixNano < endNanos)
            {
                durations.Add(span.DurationNanos);
                errors += span.IsError ? 1 : 0;
            }
        }

        var sorted = durations.Order().ToArray();
        return new RedSample(
            sorted.Length, errors, (end - start).TotalSeconds,
            OperationStatsCalculator.Percentile(sorted, 0.50), OperationStatsCalculator.Percentile(sorted, 0.90),
            OperationStatsCalculator.Percentile(sorted, 0.95), OperationStatsCalculator.Percentile(sorted, 0.99));
    }
}

/// <summary>
/// RED from every span before sampling (<see cref="SpanMetricsAggregator"/>'s per-minute window), so tail
/// sampling, which keeps every error trace and only a sample of the rest, skews neither error rates nor latency
/// percentiles. Minutes count by span start; a minute belongs to the window it begins in. A window that reaches
/// back before this process began counting, or past the minutes it keeps, is answered from stored spans instead.
/// </summary>
public sealed class SpanMetricsRedSource(SpanMetricsAggregator metrics, IRedSource stored, TimeProvider time) : IRedSource
{
    private readonly DateTimeOffset _countingSince = time.GetUtcNow();

    public ValueTask<RedSample> GetAsync(string tenant, string service, string? operation, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        // Figures restored from a checkpoint were counted since before this process started.
        var countingSince = metrics.RestoredCountingSince is { } restored && restored < _countingSince ? restored : _countingSince;
        if (MinuteRing.MinuteBeginningAtOrAfter(start) < MinuteRing.FirstCountedMinute(countingSince, time.GetUtcNow()))
        {
            return stored.GetAsync(tenant, service, operation, start, end, cancellationToken);
        }

        var red = metrics.Window(tenant, service, operation, MinuteRing.MinuteBeginningAtOrAfter(start), MinuteRing.MinuteBeginningAtOrAfter(end));
        return ValueTask.FromResult(new RedSample(red.Requests, red.Errors, (end - start).TotalSeconds, red.P50Nanos, red.P90Nanos, red.P95Nanos, red.P99Nanos));
    }
}

/// <summary>
/// RED from ClickHouse's <c>call_minutes</c>, counted before sampling by every node (each trace by its owner): on
/// ClickHouse, and so in cluster mode, an alert rule sees every node's traffic, whichever node evaluates it. Minutes
/// count by span start; a minute belongs to the window it begins in, as in <see cref="SpanMetricsRedSource"/>. The
/// figures trail ingest by up to <c>ClickHouse:MinutesInterval</c> (5 s).
/// </summary>
public sealed class CallMinutesRedSource(Storage.ClickHouse.ClickHouseSpanStore store) : IRedSource
{
    public async ValueTask<RedSample> GetAsync(string tenant, string service, string? operation, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var operations = await store.CallMinutesAsync(
            tenant, service, operation, MinuteRing.MinuteBeginningAtOrAfter(start), MinuteRing.MinuteBeginningAtOrAfter(end), cancellationToken);
        var sum = new Storage.ClickHouse.Minutes.CallFigures();
        foreach (var figures in operations.Values)
        {
            sum.Add(figures);
        }

        var red = sum.ToRed();
        return new RedSample(red.Requests, red.Errors, (end - start).TotalSeconds, red.P50Nanos, red.P90Nanos, red.P95Nanos, red.P99Nanos);
    }
}
