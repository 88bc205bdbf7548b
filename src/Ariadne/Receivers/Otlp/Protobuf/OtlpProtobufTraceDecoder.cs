using Ariadne.Model;
using Ariadne.Pipeline;
using static Ariadne.Receivers.Otlp.Protobuf.OtlpCommonFieldNumbers;
using static Ariadne.Receivers.Otlp.Protobuf.OtlpTraceFieldNumbers;
using static Ariadne.Receivers.Otlp.Protobuf.WireType;
using Span = Ariadne.Model.Span;

namespace Ariadne.Receivers.Otlp.Protobuf;

/// <summary>
/// Decodes an OTLP ExportTraceServiceRequest (or TracesData: same fields) from protobuf bytes into a
/// <see cref="SpanBatch"/>, the mirror image of OTel .NET's hand-written serializer. It reads every field in place
/// and allocates only the model: one <see cref="Span"/> per span, exact-size attribute, event and link arrays, a
/// <see cref="Resource"/> per ResourceSpans and an <see cref="InstrumentationScope"/> per ScopeSpans, and strings,
/// which are interned per request. Spans with ids of the wrong length are rejected one by one (OTLP partial
/// success); anything that is not valid protobuf throws <see cref="OtlpMalformedException"/>.
/// </summary>
internal sealed class OtlpProtobufTraceDecoder(DecoderScratch scratch) : OtlpProtobufCommonDecoder(scratch)
{
    private readonly ScratchStack<KeyValue> _keyValues = scratch.KeyValues;
    private readonly ScratchStack<SpanEvent> _events = scratch.Events;
    private readonly ScratchStack<SpanLink> _links = scratch.Links;

    public static void Decode(ReadOnlySpan<byte> payload, SpanBatch batch)
    {
        var scratch = DecoderScratch.Rent();
        try
        {
            new OtlpProtobufTraceDecoder(scratch).DecodeRequest(payload, batch);
        }
        finally
        {
            DecoderScratch.Return(scratch);
        }
    }

    private void DecodeRequest(ReadOnlySpan<byte> payload, SpanBatch batch)
    {
        var reader = new ProtobufReader(payload);
        while (reader.TryReadTag(out var tag))
        {
            if (tag == (ExportTraceServiceRequest_ResourceSpans << 3 | Len))
            {
                DecodeResourceSpans(reader.ReadLengthDelimited(), batch);
            }
            else
            {
                reader.SkipField(tag);
            }
        }
    }

    private void DecodeResourceSpans(ReadOnlySpan<byte> message, SpanBatch batch)
    {
        var firstSpan = batch.Spans.Count;
        KeyValue[] attributes = [];
        uint droppedAttributes = 0;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case ResourceSpans_Resource << 3 | Len:
                    DecodeResource(reader.ReadLengthDelimited(), ref attributes, ref droppedAttributes);
                    break;
                case ResourceSpans_ScopeSpans << 3 | Len:
                    DecodeScopeSpans(reader.ReadLengthDelimited(), batch);
                    break;
                case ResourceSpans_SchemaUrl << 3 | Len:
                    ValidateUtf8(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        OtlpDecoding.AssignResource(batch.Spans, firstSpan, attributes, droppedAttributes);
    }

    private void DecodeScopeSpans(ReadOnlySpan<byte> message, SpanBatch batch)
    {
        var firstSpan = batch.Spans.Count;
        var name = string.Empty;
        var version = string.Empty;
        KeyValue[] attributes = [];
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case ScopeSpans_Scope << 3 | Len:
                    DecodeScope(reader.ReadLengthDelimited(), ref name, ref version, ref attributes);
                    break;
                case ScopeSpans_Spans << 3 | Len:
                    DecodeSpan(reader.ReadLengthDelimited(), batch);
                    break;
                case ScopeSpans_SchemaUrl << 3 | Len:
                    ValidateUtf8(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        OtlpDecoding.AssignScope(batch.Spans, firstSpan, name, version, attributes);
    }

    private void DecodeSpan(ReadOnlySpan<byte> message, SpanBatch batch)
    {
        ReadOnlySpan<byte> traceId = default;
        ReadOnlySpan<byte> spanId = default;
        ReadOnlySpan<byte> parentSpanId = default;
        var traceState = string.Empty;
        var name = string.Empty;
        var statusMessage = string.Empty;
        var statusCode = StatusCode.Unset;
        var kind = SpanKind.Unspecified;
        uint flags = 0;
        long startTime = 0;
        long endTime = 0;
        uint droppedAttributes = 0;
        uint droppedEvents = 0;
        uint droppedLinks = 0;
        uint invalidLinks = 0;
        var attributeStart = _keyValues.Count;
        var eventStart = _events.Count;
        var linkStart = _links.Count;

        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case Span_TraceId << 3 | Len:
                    traceId = reader.ReadLengthDelimited();
                    break;
                case Span_SpanId << 3 | Len:
                    spanId = reader.ReadLengthDelimited();
                    break;
                case Span_TraceState << 3 | Len:
                    traceState = Scratch.GetValue(reader.ReadLengthDelimited());
                    break;
                case Span_ParentSpanId << 3 | Len:
                    parentSpanId = reader.ReadLengthDelimited();
                    break;
                case Span_Flags << 3 | Fixed32:
                    flags = reader.ReadFixed32();
                    break;
                case Span_Name << 3 | Len:
                    name = Scratch.GetName(reader.ReadLengthDelimited());
                    break;
                case Span_Kind << 3 | Varint:
                    kind = OtlpDecoding.ToSpanKind(reader.ReadVarint());
                    break;
                case Span_StartTimeUnixNano << 3 | Fixed64:
                    startTime = (long)reader.ReadFixed64();
                    break;
                case Span_EndTimeUnixNano << 3 | Fixed64:
                    endTime = (long)reader.ReadFixed64();
                    break;
                case Span_Attributes << 3 | Len:
                    _keyValues.Push(DecodeKeyValue(reader.ReadLengthDelimited(), depth: 4));
                    break;
                case Span_DroppedAttributesCount << 3 | Varint:
                    droppedAttributes = (uint)reader.ReadVarint();
                    break;
                case Span_Events << 3 | Len:
                    _events.Push(DecodeEvent(reader.ReadLengthDelimited()));
                    break;
                case Span_DroppedEventsCount << 3 | Varint:
                    droppedEvents = (uint)reader.ReadVarint();
                    break;
                case Span_Links << 3 | Len:
                    if (TryDecodeLink(reader.ReadLengthDelimited(), out var link))
                    {
                        _links.Push(link);
                    }
                    else
                    {
                        invalidLinks++;
                    }

                    break;
                case Span_DroppedLinksCount << 3 | Varint:
                    droppedLinks = (uint)reader.ReadVarint();
                    break;
                case Span_Status << 3 | Len:
                    DecodeStatus(reader.ReadLengthDelimited(), ref statusMessage, ref statusCode);
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        var invalidId = OtlpDecoding.ValidateIds(traceId.Length, spanId.Length, parentSpanId.Length);
        if (invalidId is not null)
        {
            _keyValues.Truncate(attributeStart);
            _events.Truncate(eventStart);
            _links.Truncate(linkStart);
            batch.Reject(invalidId);
            return;
        }

        batch.Spans.Add(new Span
        {
            TraceId = TraceId.FromBytes(traceId),
            SpanId = SpanId.FromBytes(spanId),
            ParentSpanId = parentSpanId.IsEmpty ? default : SpanId.FromBytes(parentSpanId),
            TraceState = traceState,
            Flags = flags,
            Name = name,
            Kind = kind,
            StartTimeUnixNano = startTime,
            EndTimeUnixNano = endTime,
            Attributes = _keyValues.Pop(attributeStart),
            DroppedAttributesCount = droppedAttributes,
            Events = _events.Pop(eventStart),
            DroppedEventsCount = droppedEvents,
            Links = _links.Pop(linkStart),
            // Links dropped for invalid ids add to what the sender reports.
            DroppedLinksCount = droppedLinks + invalidLinks,
            StatusCode = statusCode,
            StatusMessage = statusMessage,
            Resource = OtlpDecoding.PendingResource,
        });
    }

    private static void DecodeStatus(ReadOnlySpan<byte> message, ref string statusMessage, ref StatusCode code)
    {
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case Status_Message << 3 | Len:
                    statusMessage = OtlpStrings.Decode(reader.ReadLengthDelimited());
                    break;
                case Status_Code << 3 | Varint:
                    code = OtlpDecoding.ToStatusCode(reader.ReadVarint());
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }
    }

    private SpanEvent DecodeEvent(ReadOnlySpan<byte> message)
    {
        long time = 0;
        var name = string.Empty;
        uint droppedAttributes = 0;
        var attributeStart = _keyValues.Count;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case Event_TimeUnixNano << 3 | Fixed64:
                    time = (long)reader.ReadFixed64();
                    break;
                case Event_Name << 3 | Len:
                    name = Scratch.GetName(reader.ReadLengthDelimited());
                    break;
                case Event_Attributes << 3 | Len:
                    _keyValues.Push(DecodeKeyValue(reader.ReadLengthDelimited(), depth: 5));
                    break;
                case Event_DroppedAttributesCount << 3 | Varint:
                    droppedAttributes = (uint)reader.ReadVarint();
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        return new SpanEvent(time, name, _keyValues.Pop(attributeStart), droppedAttributes);
    }

    /// <summary>False for a link whose ids have the wrong length: the model cannot hold it, so it is dropped.</summary>
    private bool TryDecodeLink(ReadOnlySpan<byte> message, out SpanLink link)
    {
        ReadOnlySpan<byte> traceId = default;
        ReadOnlySpan<byte> spanId = default;
        var traceState = string.Empty;
        uint flags = 0;
        var attributeStart = _keyValues.Count;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case Link_TraceId << 3 | Len:
                    traceId = reader.ReadLengthDelimited();
                    break;
                case Link_SpanId << 3 | Len:
                    spanId = reader.ReadLengthDelimited();
                    break;
                case Link_TraceState << 3 | Len:
                    traceState = Scratch.GetValue(reader.ReadLengthDelimited());
                    break;
                case Link_Attributes << 3 | Len:
                    _keyValues.Push(DecodeKeyValue(reader.ReadLengthDelimited(), depth: 5));
                    break;
                case Link_Flags << 3 | Fixed32:
                    flags = reader.ReadFixed32();
                    break;
                default:
                    // dropped_attributes_count: the model's links do not carry it.
                    reader.SkipField(tag);
                    break;
            }
        }

        if (traceId.Length != TraceId.ByteLength || spanId.Length != SpanId.ByteLength)
        {
            _keyValues.Truncate(attributeStart);
            link = default;
            return false;
        }

        link = new SpanLink(TraceId.FromBytes(traceId), SpanId.FromBytes(spanId), traceState, _keyValues.Pop(attributeStart), flags);
        return true;
    }
}
