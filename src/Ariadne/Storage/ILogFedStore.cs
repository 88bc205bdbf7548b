using Ariadne.Model;
using Ariadne.Pipeline.Log;

namespace Ariadne.Storage;

/// <summary>
/// A storage engine whose durability comes from the ingest log (embedded, ClickHouse): the pipeline hands it spans
/// once they are durable in the log, and it reports how far it has made them durable itself, so the log knows what
/// it may delete and a restart knows what to hand it again.
/// </summary>
public interface ILogFedStore
{
    /// <summary>
    /// Takes spans handed at a log position, on the log's dispatch thread, in log order: must not block (add to
    /// memory, or queue for a writer). Every dispatched record reaches it, with no spans when it holds none for
    /// storage (a batch the sampler holds, decisions that keep nothing), so it knows how far the log has gone.
    /// </summary>
    void Take(string tenant, IReadOnlyList<Span> spans, LogPosition position);

    /// <summary>Everything taken at or before this position is durable in the engine (<see cref="LogPosition.Start"/>: nothing yet).</summary>
    LogPosition DurableThrough { get; }

    /// <summary>Null while the engine keeps up; otherwise why new spans are refused for now (503, retried by clients).</summary>
    string? Backlog { get; }
}
