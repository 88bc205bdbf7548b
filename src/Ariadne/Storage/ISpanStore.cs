using Ariadne.Model;

namespace Ariadne.Storage;

/// <summary>
/// The storage contract every engine (memory, embedded, ClickHouse) implements and the contract test suite checks.
/// Every call is scoped to a tenant; a tenant never sees another tenant's spans. The exact semantics are specified by
/// the contract test suite (<c>tests/Ariadne.Tests/Storage/SpanStoreContractTests.cs</c>). Spans handed out are shared
/// with the store: callers must not mutate them.
/// </summary>
public interface ISpanStore : IAsyncDisposable
{
    /// <summary>Stores spans. When this returns, the spans are durable as far as the engine promises.</summary>
    ValueTask AppendAsync(string tenant, IReadOnlyList<Span> spans, CancellationToken cancellationToken);

    /// <summary>All spans of a trace (empty when unknown), in no particular order.</summary>
    ValueTask<IReadOnlyList<Span>> GetTraceAsync(string tenant, TraceId traceId, CancellationToken cancellationToken);

    /// <summary>Service names, sorted ordinally.</summary>
    ValueTask<IReadOnlyList<string>> GetServicesAsync(string tenant, CancellationToken cancellationToken);

    /// <summary>Operations of a service, optionally of one span kind, sorted by name then kind.</summary>
    ValueTask<IReadOnlyList<OperationInfo>> GetOperationsAsync(string tenant, string service, SpanKind? kind, CancellationToken cancellationToken);

    /// <summary>
    /// Whole traces with at least one span matching the query (<see cref="SpanMatcher"/>), latest first span start first,
    /// at most <see cref="TraceQuery.Limit"/>.
    /// </summary>
    ValueTask<IReadOnlyList<IReadOnlyList<Span>>> FindTracesAsync(string tenant, TraceQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Calls between different services whose child span starts in [<paramref name="endTime"/> - <paramref name="lookback"/>,
    /// <paramref name="endTime"/>] (<see cref="DependencyCalculator"/>), sorted by parent then child.
    /// </summary>
    ValueTask<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken);

    /// <summary>Size figures for /metrics and `ariadne storage`.</summary>
    StorageStats GetStats();
}

public readonly record struct OperationInfo(string Name, SpanKind Kind);

public readonly record struct DependencyLink(string Parent, string Child, long CallCount, long ErrorCount = 0)
{
    /// <summary>Links from per-edge sums, sorted by parent then child, the order <see cref="ISpanStore.GetDependenciesAsync"/> answers in.</summary>
    public static List<DependencyLink> Sorted(IEnumerable<KeyValuePair<(string Parent, string Child), (long Calls, long Errors)>> edges) =>
        edges.OrderBy(e => e.Key.Parent, StringComparer.Ordinal).ThenBy(e => e.Key.Child, StringComparer.Ordinal)
            .Select(e => new DependencyLink(e.Key.Parent, e.Key.Child, e.Value.Calls, e.Value.Errors))
            .ToList();

    /// <summary>Several answers added up edge by edge, sorted as <see cref="Sorted"/> does.</summary>
    public static List<DependencyLink> Sum(IEnumerable<DependencyLink> links) =>
        Sorted(links.GroupBy(l => (l.Parent, l.Child)).Select(g => KeyValuePair.Create(g.Key, (g.Sum(l => l.CallCount), g.Sum(l => l.ErrorCount)))));
}

public readonly record struct StorageStats(long Spans, long Traces, long Bytes);
