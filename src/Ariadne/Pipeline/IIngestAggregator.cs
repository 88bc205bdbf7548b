using Ariadne.Model;

namespace Ariadne.Pipeline;

/// <summary>
/// Sees every accepted span before tail sampling drops any, so what it aggregates (RED metrics, adaptive-sampling
/// throughput, service-graph edges) is exact while storage keeps a sample. With an ingest log it is a log consumer:
/// it sees each batch once the batch is durable, in log order, on the log's dispatch thread; without one (memory
/// engine) it sees each batch on the ingest path. Either way it must be cheap and must not keep the list (receivers
/// may reuse it).
/// </summary>
public interface IIngestAggregator
{
    void Observe(string tenant, IReadOnlyList<Span> spans);
}

/// <summary>
/// An aggregator whose figures survive a restart: the pipeline saves its state with the log position it has seen
/// through (<see cref="AggregatorCheckpoints"/>), and a restart puts the state back and hands it the log records
/// past that position, so a crash or a replay neither loses nor double-counts a span.
/// </summary>
public interface ICheckpointedAggregator : IIngestAggregator
{
    /// <summary>Names the aggregator's part of the checkpoint file; stable across versions.</summary>
    string CheckpointName { get; }

    /// <summary>Writes the whole state; called between two <see cref="IIngestAggregator.Observe"/> calls.</summary>
    void WriteCheckpoint(BinaryWriter writer);

    /// <summary>Replaces the state with what <see cref="WriteCheckpoint"/> wrote; called once, before any span is observed.</summary>
    void ReadCheckpoint(BinaryReader reader);
}

/// <summary>
/// An aggregator that writes its figures to an outside store and makes those writes idempotent by log position: the
/// pipeline tells it the position of each record right after <see cref="IIngestAggregator.Observe"/> saw it, live and
/// during recovery, so after a crash it can tell records whose figures the store already holds from the rest.
/// Without an ingest log (memory engine) it is never called.
/// </summary>
public interface IPositionedAggregator : IIngestAggregator
{
    /// <summary>The record just observed is at <paramref name="position"/>; on the same thread as <c>Observe</c>.</summary>
    void ObservedAt(Log.LogPosition position);
}
