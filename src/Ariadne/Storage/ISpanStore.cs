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
