using Ariadne.Model;
using Ariadne.Pipeline.Log;
using Ariadne.Sampling.Tail;
using Ariadne.Storage;

namespace Ariadne.Pipeline;

/// <summary>
/// The one recovery path: at start-up, before the log takes new records, every record the log still holds is handed
/// to the consumers as live dispatch handed it, except what they had already made durable.
/// <list type="bullet">
/// <item>Spans for storage: to the engine when past its checkpoint (<see cref="ILogFedStore.DurableThrough"/>).</item>
/// <item>Spans for the tail sampler: a trace with no logged decision is held again (its decision wait starts over);
/// one whose decision comes later in the log waits for it; a late span of a kept trace goes to storage at its own
/// position, when past the checkpoint.</item>
/// <item>Decisions: remembered by the sampler (late spans follow them), and the kept traces' spans go to storage at the
/// decisions' position, when past the checkpoint.</item>
/// </list>
/// The aggregators see every span record past their own checkpoint (<see cref="AggregatorCheckpoints"/>), both
/// routes, as live dispatch shows them every batch before sampling.
/// Positions past the checkpoint are exactly what the engine had not made durable, so nothing is lost and nothing is
/// stored twice. A torn record at the end of a segment (a crash mid-write: never acknowledged) ends that segment.
/// </summary>
public static partial class LogRecovery
{
    /// <summary>
    /// Replays <paramref name="directory"/>; returns the early decisions the sampler made while taking the replay (to
    /// commit once the log is open) and the position of the last record read (what the consumers have now seen).
    /// </summary>
    public static (List<DecidedTraces> Early, LogPosition Last) Run(string directory, ILogFedStore store, TailSampler sampler, Aggregation aggregation, ILogger logger)
    {
        var checkpoint = store.DurableThrough;
        var decidedAt = new Dictionary<(string Tenant, TraceId TraceId), (LogPosition At, bool Kept)>();
        var problems = new List<string>();
        var segments = SegmentLog.ListSegments(directory);
        foreach (var (number, path) in segments)
        {
            SegmentReader.ReplaySegment(number, path, (position, payload) =>
            {
                if (payload[0] == LogRecords.DecisionsV1 && LogRecords.Decode(payload) is DecisionsEntry decisions)
                {
                    foreach (var (tenant, traceId, kept) in decisions.Decisions)
                    {
                        decidedAt[(tenant, traceId)] = (position, kept);
                    }
                }
            }, problems);
        }

        var waiting = new Dictionary<(string Tenant, TraceId TraceId), List<Span>>();
        var early = new List<DecidedTraces>();
        long records = 0, handed = 0, held = 0;
        var last = LogPosition.Start;
        foreach (var (number, path) in segments)
        {
            SegmentReader.ReplaySegment(number, path, (position, payload) =>
            {
                records++;
                last = position;
                var entry = LogRecords.Decode(payload);
                if (entry is SpansEntry observed && position > aggregation.Through)
                {
                    foreach (var aggregator in aggregation.Aggregators)
                    {
                        aggregator.Observe(observed.Tenant, observed.Spans);
                        (aggregator as IPositionedAggregator)?.ObservedAt(position);
                    }
                }

                switch (entry)
                {
                    case SpansEntry { Route: SpanRoute.Storage } direct when position > checkpoint:
                        store.Take(direct.Tenant, direct.Spans, position);
                        handed += direct.Spans.Count;
                        break;
                    case SpansEntry { Route: SpanRoute.TailSampling } tail:
                        List<Span>? late = null, undecided = null;
                        foreach (var span in tail.Spans)
                        {
                            var key = (tail.Tenant, span.TraceId);
                            if (!decidedAt.TryGetValue(key, out var decision))
                            {
                                (undecided ??= []).Add(span);
                            }
                            else if (decision.At > position)
                            {
                                if (!waiting.TryGetValue(key, out var spans))
                                {
                                    waiting[key] = spans = [];
                                }

                                spans.Add(span);
                            }
                            else if (decision.Kept && position > checkpoint)
                            {
                                (late ??= []).Add(span);
                            }
                        }

                        if (late is not null)
                        {
                            store.Take(tail.Tenant, late, position);
                            handed += late.Count;
                        }

                        if (undecided is null)
                        {
                            break;
                        }

                        if (sampler.Buffering)
                        {
                            var take = sampler.Take(tail.Tenant, undecided, number);
                            held += undecided.Count;
                            if (take.Early is { Count: > 0 } decided)
                            {
                                early.Add(decided);
                            }
                        }
                        else
                        {
                            // Tail sampling is off now: what it held goes to storage.
                            store.Take(tail.Tenant, undecided, position);
                            handed += undecided.Count;
                        }

                        break;
                    case DecisionsEntry decisions:
                        foreach (var (tenant, traceId, kept) in decisions.Decisions)
                        {
                            sampler.Remember(tenant, traceId, kept);
                            if (waiting.Remove((tenant, traceId), out var spans) && kept && position > checkpoint)
                            {
                                store.Take(tenant, spans, position);
                                handed += spans.Count;
                            }
                        }

                        break;
                }
            }, []);
        }

        foreach (var problem in problems)
        {
            LogTornRecord(logger, problem);
        }

        if (records > 0)
        {
            LogReplayed(logger, records, segments.Count, handed, held, checkpoint.ToString());
        }

        return (early, last);
    }

    /// <summary>The aggregators and the position their restored state covers.</summary>
    public sealed record Aggregation(IReadOnlyList<IIngestAggregator> Aggregators, LogPosition Through);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingest log replay: {Problem}. Such a record was never acknowledged to a client.")]
    private static partial void LogTornRecord(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingest log replay: {Records} records in {Segments} segments; {Handed} spans handed to storage (checkpoint {Checkpoint}), {Held} held again for a tail-sampling decision.")]
    private static partial void LogReplayed(ILogger logger, long records, int segments, long handed, long held, string checkpoint);
}
