using Ariadne.Model;

namespace Ariadne.Storage;

/// <summary>
/// Where OTLP log records that belong to a trace are kept, per tenant, to be shown with the trace. Only the lookup
/// the trace view needs is offered: the records of one trace. Records handed out are shared with the store: callers
/// must not mutate them.
/// </summary>
public interface ILogStore : IAsyncDisposable
{
    /// <summary>
    /// Stores records; each has a non-empty trace id. When this returns, they are durable as far as the engine promises.
    /// </summary>
    ValueTask AppendAsync(string tenant, IReadOnlyList<LogRecord> records, CancellationToken cancellationToken);

    /// <summary>The records of a trace (empty when none), oldest first (<see cref="LogRecord.EffectiveTimeUnixNano"/>).</summary>
    ValueTask<IReadOnlyList<LogRecord>> GetTraceLogsAsync(string tenant, TraceId traceId, CancellationToken cancellationToken);
}

public static class LogOrder
{
    /// <summary>Sorts records into the order <see cref="ILogStore.GetTraceLogsAsync"/> promises; stable for equal times.</summary>
    public static List<LogRecord> ByTime(IEnumerable<LogRecord> records) =>
        records.OrderBy(record => record.EffectiveTimeUnixNano).ToList();
}
