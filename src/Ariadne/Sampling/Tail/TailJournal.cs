using Ariadne.Model;
using Ariadne.Storage.Embedded.Encoding;
using Ariadne.Storage.Embedded.Wal;

namespace Ariadne.Sampling.Tail;

/// <summary>
/// The tail sampler's write-ahead log: spans held for a decision are appended (group-committed, fsynced) before
/// the client is answered, so a crash loses no acknowledged span even though the storage engine has not seen them
/// yet. Each decision is appended too, after the kept spans are durable in storage, so a restart replays only the
/// traces still undecided and stores nothing twice.
/// <para>
/// Segments are deleted from the front: every buffered trace counts against the segment that was current when its
/// first span arrived, and a segment goes once no earlier-or-equal segment has an undecided (or decided but not yet
/// stored) trace. Spans of a trace always land in that segment or a later one.
/// </para>
/// </summary>
/// <remarks>
/// Records: <c>1, tenant, spans</c> (the storage codec) and <c>2, count, (tenant, trace id, kept)*</c>.
/// </remarks>
public sealed class TailJournal : IAsyncDisposable
{
    private const byte SpansRecord = 1;
    private const byte DecisionsRecord = 2;

    private readonly WriteAheadLog _wal;
    private readonly Lock _openLock = new();
    private readonly SortedDictionary<long, long> _open = [];
    private long _appendsSinceRotate;

    private TailJournal(string directory, WriteAheadLog wal)
    {
        Directory = directory;
        _wal = wal;
    }

    public string Directory { get; }

    /// <summary>The segment a trace that starts now counts against.</summary>
    public long CurrentSegment => _wal.CurrentSegment;

    /// <summary>Size of the journal's segments on disk.</summary>
    public long Bytes => WriteAheadLog.SegmentBytes(Directory);

    /// <summary>
    /// Reads what a previous run left (traces it had not decided, and the decisions it had made) and opens the
    /// journal for appending in a new segment. The old segments stay until <see cref="DeleteBefore"/> is called
    /// with the first new segment, once the recovered traces are safe again.
    /// </summary>
    public static (TailJournal Journal, JournalRecovery Recovered) Open(string directory, TimeSpan groupCommitInterval)
    {
        var recovered = new JournalRecovery();
        var held = new Dictionary<(string Tenant, TraceId TraceId), List<Span>>();
        recovered.Problems.AddRange(WalReader.Replay(directory, (_, payload) =>
        {
            var reader = new SpanCodecReader(payload);
            switch ((byte)reader.ReadVarint())
            {
                case SpansRecord:
                    var tenant = reader.ReadString();
                    foreach (var span in reader.ReadSpans())
                    {
                        if (!held.TryGetValue((tenant, span.TraceId), out var spans))
                        {
                            held[(tenant, span.TraceId)] = spans = [];
                        }

                        spans.Add(span);
                    }

                    recovered.SpanRecords++;
                    break;
                case DecisionsRecord:
                    for (var count = reader.ReadCount(); count > 0; count--)
                    {
                        var decided = reader.ReadString();
                        var traceId = TraceId.FromBytes(reader.ReadBytesSpan());
                        recovered.Decisions[(decided, traceId)] = reader.ReadVarint() == 1;
                    }

                    break;
                default:
                    throw new InvalidDataException($"Tail-sampling journal in '{directory}': unknown record type; move the directory away to start without it.");
            }
        }));

        foreach (var ((tenant, traceId), spans) in held)
        {
            if (!recovered.Decisions.ContainsKey((tenant, traceId)))
            {
                recovered.Undecided.Add(new RecoveredTrace(tenant, traceId, spans));
            }
        }

        var wal = WriteAheadLog.Open(directory, groupCommitInterval);
        return (new TailJournal(directory, wal), recovered);
    }

    /// <summary>Records that <paramref name="traces"/> new traces count against <paramref name="segment"/>.</summary>
    public void Opened(long segment, long traces) => Count(segment, traces);

    /// <summary>Records that traces counted against segments are decided and, if kept, durable in storage.</summary>
    public void Closed(Dictionary<long, long> tracesBySegment)
    {
        foreach (var (segment, traces) in tracesBySegment)
        {
            Count(segment, -traces);
        }
    }

    /// <summary>Appends held spans; the task completes once they are on disk.</summary>
    public Task AppendSpansAsync(string tenant, IReadOnlyList<Span> spans)
    {
        Interlocked.Increment(ref _appendsSinceRotate);
        return _wal.AppendAsync(w =>
        {
            SpanCodec.WriteVarint(w, SpansRecord);
            SpanCodec.WriteString(w, tenant);
            SpanCodec.WriteSpans(w, spans);
        });
    }

    /// <summary>Appends decisions; call after the kept traces are durable in storage.</summary>
    public Task AppendDecisionsAsync(IReadOnlyList<(string Tenant, TraceId TraceId, bool Kept)> decisions)
    {
        Interlocked.Increment(ref _appendsSinceRotate);
        return _wal.AppendAsync(w =>
        {
            SpanCodec.WriteVarint(w, DecisionsRecord);
            SpanCodec.WriteVarint(w, (ulong)decisions.Count);
            Span<byte> id = stackalloc byte[TraceId.ByteLength];
            foreach (var (tenant, traceId, kept) in decisions)
            {
                SpanCodec.WriteString(w, tenant);
                traceId.WriteBytes(id);
                SpanCodec.WriteBytes(w, id);
                SpanCodec.WriteVarint(w, kept ? 1UL : 0UL);
            }
        });
    }

    /// <summary>
    /// Starts a new segment if the current one has records, then deletes every segment before the oldest one an
    /// undecided trace counts against. Called by the sampler's decision loop.
    /// </summary>
    public void Checkpoint()
    {
        if (Interlocked.Exchange(ref _appendsSinceRotate, 0) > 0)
        {
            _wal.Rotate();
        }

        long oldestOpen;
        lock (_openLock)
        {
            oldestOpen = long.MaxValue;
            foreach (var (segment, count) in _open)
            {
                if (count > 0)
                {
                    oldestOpen = segment;
                    break;
                }
            }
        }

        DeleteBefore(Math.Min(oldestOpen, _wal.CurrentSegment));
    }

    /// <summary>Deletes the segments numbered below <paramref name="segment"/>.</summary>
    public void DeleteBefore(long segment) => _wal.DeleteThrough(segment - 1);

    public ValueTask DisposeAsync() => _wal.DisposeAsync();

    private void Count(long segment, long delta)
    {
        if (delta == 0)
        {
            return;
        }

        lock (_openLock)
        {
            // A trace can be decided before the request that buffered it has counted it: the count may dip below
            // zero for a moment, so only positive counts hold a segment.
            var count = _open.GetValueOrDefault(segment) + delta;
            if (count == 0)
            {
                _open.Remove(segment);
            }
            else
            {
                _open[segment] = count;
            }
        }
    }
}

/// <summary>What a previous run's journal held: traces to decide again, and decisions to remember.</summary>
public sealed class JournalRecovery
{
    public List<RecoveredTrace> Undecided { get; } = [];

    public Dictionary<(string Tenant, TraceId TraceId), bool> Decisions { get; } = [];

    public List<string> Problems { get; } = [];

    public int SpanRecords { get; set; }
}

public sealed record RecoveredTrace(string Tenant, TraceId TraceId, List<Span> Spans);
