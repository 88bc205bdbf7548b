using Ariadne.Model;

namespace Ariadne.Storage;

/// <summary>
/// The storage contract every engine (memory, embedded, ClickHouse) implements and the contract test suite checks.
/// Every call is scoped to a tenant; a tenant never sees another tenant's spans.
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

    /// <summary>Traces with at least one span matching the query, most recent first, at most <see cref="TraceQuery.Limit"/>.</summary>
    ValueTask<IReadOnlyList<IReadOnlyList<Span>>> FindTracesAsync(string tenant, TraceQuery query, CancellationToken cancellationToken);

    /// <summary>Calls between services in the window ending at <paramref name="endTime"/>.</summary>
    ValueTask<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken);

    /// <summary>Size figures for /metrics and `ariadne storage`.</summary>
    StorageStats GetStats();
}

public readonly record struct OperationInfo(string Name, SpanKind Kind);

public readonly record struct DependencyLink(string Parent, string Child, long CallCount, long ErrorCount = 0);

public readonly record struct StorageStats(long Spans, long Traces, long Bytes);
