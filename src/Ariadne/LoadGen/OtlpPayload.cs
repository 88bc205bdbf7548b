using System.Buffers.Binary;
using Ariadne.Model;
using Ariadne.Query;
using static Ariadne.Model.OtlpFieldNumbers;

namespace Ariadne.LoadGen;

/// <summary>
/// One pre-encoded OTLP <c>ExportTraceServiceRequest</c> and where its trace ids and timestamps sit, so each send
/// can stamp fresh trace ids and current times into a copy with a few dozen byte writes instead of re-encoding.
/// </summary>
internal sealed class OtlpPayload
{
    private const string TierAttribute = "customer.tier";

    private readonly byte[] _bytes;
    private readonly int[][] _traceIdOffsets;
    private readonly int[] _timestampOffsets;
    private readonly long _baseTimeUnixNano;

    private OtlpPayload(byte[] bytes, int[][] traceIdOffsets, int[] timestampOffsets, long baseTimeUnixNano, int spanCount, (int, string)[] traces)
    {
        _bytes = bytes;
        _traceIdOffsets = traceIdOffsets;
        _timestampOffsets = timestampOffsets;
        _baseTimeUnixNano = baseTimeUnixNano;
        SpanCount = spanCount;
        Traces = traces;
    }

    /// <summary>Each trace's span count and customer tier (the attribute a tail policy can keep by), in stamping order.</summary>
    public IReadOnlyList<(int Spans, string Tier)> Traces { get; }

    public int Length => _bytes.Length;

    public int SpanCount { get; }

    public int TraceCount => _traceIdOffsets.Length;

    /// <summary>The encoded request exactly as built, with the template's own ids and times.</summary>
    public ReadOnlySpan<byte> Template => _bytes;

    /// <summary>
    /// Encodes whole traces into one request: spans grouped by resource, then by scope, as an SDK or a collector
    /// batches them. Timestamps are taken relative to <paramref name="baseTimeUnixNano"/> when stamped.
    /// </summary>
    public static OtlpPayload Encode(IReadOnlyList<IReadOnlyList<Span>> traces, long baseTimeUnixNano, ProtobufWriter writer)
    {
        writer.Reset();
        var traceIndex = new Dictionary<TraceId, int>();
        var traceIdOffsets = new List<int>[traces.Count];
        for (var i = 0; i < traces.Count; i++)
        {
            traceIdOffsets[i] = [];
            foreach (var span in traces[i])
            {
                traceIndex.TryAdd(span.TraceId, i);
            }
        }

        var timestampOffsets = new List<int>();
        var spanCount = 0;
        var byResource = traces.SelectMany(t => t).GroupBy(s => s.Resource);
        foreach (var resourceGroup in byResource)
        {
            var resourceSpans = writer.BeginMessage(RequestResourceSpans);
            var resource = writer.BeginMessage(ResourceSpansResource);
            foreach (var attribute in resourceGroup.Key.Attributes)
            {
                OtlpProtobufWriter.WriteKeyValue(writer, ResourceAttributes, attribute);
            }

            writer.EndMessage(resource);
            foreach (var scopeGroup in resourceGroup.GroupBy(s => s.Scope))
            {
                var scopeSpans = writer.BeginMessage(ResourceSpansScopeSpans);
                var scope = writer.BeginMessage(ScopeSpansScope);
                writer.WriteStringField(ScopeName, scopeGroup.Key.Name);
                if (scopeGroup.Key.Version.Length > 0)
                {
                    writer.WriteStringField(ScopeVersion, scopeGroup.Key.Version);
                }

                writer.EndMessage(scope);
                foreach (var span in scopeGroup)
                {
                    WriteSpan(writer, span, traceIdOffsets[traceIndex[span.TraceId]], timestampOffsets);
                    spanCount++;
                }

                writer.EndMessage(scopeSpans);
            }

            writer.EndMessage(resourceSpans);
        }

        var summaries = traces.Select(t => (t.Count, t.SelectMany(s => s.Attributes).FirstOrDefault(a => a.Key == TierAttribute).Value.AsString)).ToArray();
        return new OtlpPayload(writer.ToArray(), traceIdOffsets.Select(o => o.ToArray()).ToArray(), timestampOffsets.ToArray(), baseTimeUnixNano, spanCount, summaries);
    }

    /// <summary>
    /// Copies the request into <paramref name="destination"/> with a fresh trace id per trace (from
    /// <paramref name="nextTraceId"/>) and every timestamp moved by <paramref name="nowUnixNano"/> minus the base time,
    /// so each send is new, unique traces that look recent. Returns the length written.
    /// </summary>
    public int Stamp(Span<byte> destination, long nowUnixNano, Func<TraceId> nextTraceId)
    {
        _bytes.CopyTo(destination);
        Span<byte> id = stackalloc byte[TraceId.ByteLength];
        foreach (var offsets in _traceIdOffsets)
        {
            nextTraceId().WriteBytes(id);
            foreach (var offset in offsets)
            {
                id.CopyTo(destination[offset..]);
            }
        }

        var shift = nowUnixNano - _baseTimeUnixNano;
        foreach (var offset in _timestampOffsets)
        {
            var at = destination.Slice(offset, 8);
            BinaryPrimitives.WriteInt64LittleEndian(at, BinaryPrimitives.ReadInt64LittleEndian(at) + shift);
        }

        return _bytes.Length;
    }

    private static void WriteSpan(ProtobufWriter writer, Span span, List<int> traceIdOffsets, List<int> timestampOffsets)
    {
        Span<byte> id = stackalloc byte[TraceId.ByteLength];
        var message = writer.BeginMessage(ScopeSpansSpans);
        span.TraceId.WriteBytes(id);
        traceIdOffsets.Add(writer.WriteBytesField(SpanTraceId, id));
        span.SpanId.WriteBytes(id);
        writer.WriteBytesField(SpanSpanId, id[..SpanId.ByteLength]);
        if (!span.ParentSpanId.IsEmpty)
        {
            span.ParentSpanId.WriteBytes(id);
            writer.WriteBytesField(SpanParentSpanId, id[..SpanId.ByteLength]);
        }

        writer.WriteStringField(SpanName, span.Name);
        writer.WriteVarintField(SpanKindField, (ulong)span.Kind);
        timestampOffsets.Add(writer.WriteFixed64Field(SpanStartTime, (ulong)span.StartTimeUnixNano));
        timestampOffsets.Add(writer.WriteFixed64Field(SpanEndTime, (ulong)span.EndTimeUnixNano));
        foreach (var attribute in span.Attributes)
        {
            OtlpProtobufWriter.WriteKeyValue(writer, SpanAttributes, attribute);
        }

        foreach (var spanEvent in span.Events)
        {
            var eventMessage = writer.BeginMessage(SpanEvents);
            timestampOffsets.Add(writer.WriteFixed64Field(EventTime, (ulong)spanEvent.TimeUnixNano));
            writer.WriteStringField(EventName, spanEvent.Name);
            foreach (var attribute in spanEvent.Attributes)
            {
                OtlpProtobufWriter.WriteKeyValue(writer, EventAttributes, attribute);
            }

            writer.EndMessage(eventMessage);
        }

        if (span.StatusCode != StatusCode.Unset)
        {
            var status = writer.BeginMessage(SpanStatus);
            if (span.StatusMessage.Length > 0)
            {
                writer.WriteStringField(StatusMessage, span.StatusMessage);
            }

            writer.WriteVarintField(StatusCodeField, (ulong)span.StatusCode);
            writer.EndMessage(status);
        }

        writer.WriteFixed32Field(SpanFlags, span.Flags);
        writer.EndMessage(message);
    }
}
