using Ariadne.Model;

namespace Ariadne.Pipeline.Log;

/// <summary>
/// The records of the ingest log (docs/storage-format.md, "Ingest log"). A payload starts with its kind, and the
/// kind names the layout: a new layout gets a new kind, so a reader knows every record it may meet.
/// <list type="bullet">
/// <item><c>1</c> spans v1: tenant, route (0 storage, 1 tail sampling), spans (<see cref="SpanCodec.WriteSpans"/>).</item>
/// <item><c>2</c> tail decisions v1: count, then per trace: tenant, trace id (16 bytes), kept (0 or 1).</item>
/// </list>
/// </summary>
public static class LogRecords
{
    public const byte SpansV1 = 1;
    public const byte DecisionsV1 = 2;

    /// <summary>Encodes a spans record into this thread's scratch buffer (see <see cref="SegmentLog.Encode"/>).</summary>
    public static ReadOnlyMemory<byte> EncodeSpans(string tenant, SpanRoute route, IReadOnlyList<Span> spans) => SegmentLog.Encode(w =>
    {
        SpanCodec.WriteVarint(w, SpansV1);
        SpanCodec.WriteString(w, tenant);
        SpanCodec.WriteVarint(w, (ulong)route);
        SpanCodec.WriteSpans(w, spans);
    });

    public static ReadOnlyMemory<byte> EncodeDecisions(IReadOnlyList<(string Tenant, TraceId TraceId, bool Kept)> decisions) => SegmentLog.Encode(w =>
    {
        SpanCodec.WriteVarint(w, DecisionsV1);
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

    /// <summary>Decodes one record's payload into the entry live dispatch would have seen (decisions without their spans).</summary>
    public static LogEntry Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new SpanCodecReader(payload);
        switch (reader.ReadVarint())
        {
            case SpansV1:
                var tenant = reader.ReadString();
                var route = (SpanRoute)reader.ReadVarint();
                return new SpansEntry(tenant, route, reader.ReadSpans());
            case DecisionsV1:
                var decisions = new List<(string, TraceId, bool)>(reader.ReadCount());
                for (var i = decisions.Capacity; i > 0; i--)
                {
                    var decided = reader.ReadString();
                    var traceId = TraceId.FromBytes(reader.ReadBytesSpan());
                    decisions.Add((decided, traceId, reader.ReadVarint() == 1));
                }

                return new DecisionsEntry(decisions);
            case var kind:
                throw new InvalidDataException($"unknown ingest-log record kind {kind}: written by a newer Ariadne? Start that version, or move the log directory away to start without it");
        }
    }
}

/// <summary>Where the pipeline sends a batch's spans: straight to storage, or to the tail sampler first.</summary>
public enum SpanRoute : byte
{
    Storage = 0,
    TailSampling = 1,
}

/// <summary>What one log record holds, decoded (recovery reads these; live dispatch hands the pipeline its own entries).</summary>
public abstract record LogEntry;

public sealed record SpansEntry(string Tenant, SpanRoute Route, IReadOnlyList<Span> Spans) : LogEntry;

/// <summary>A round of tail decisions as the log holds it: the kept spans are in the earlier spans records.</summary>
public sealed record DecisionsEntry(IReadOnlyList<(string Tenant, TraceId TraceId, bool Kept)> Decisions) : LogEntry;
