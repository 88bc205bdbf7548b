using Ariadne.Model;
using Ariadne.Pipeline;
using static Ariadne.Receivers.Otlp.Protobuf.OtlpTraceFieldNumbers;
using static Ariadne.Receivers.Otlp.Protobuf.WireType;
using Span = Ariadne.Model.Span;

namespace Ariadne.Receivers.Otlp.Protobuf;

/// <summary>
/// Decodes an OTLP ExportTraceServiceRequest (or TracesData: same fields) from protobuf bytes into a
/// <see cref="SpanBatch"/>, the mirror image of OTel .NET's hand-written serializer: the spans, read into
/// <see cref="OtlpSpans"/>; the envelope around them is <see cref="OtlpProtobufCommonDecoder"/>'s. It reads every field
/// in place and allocates only the model: one <see cref="Span"/> per span, exact-size attribute, event and link arrays,
/// a <see cref="Resource"/> per ResourceSpans and an <see cref="InstrumentationScope"/> per ScopeSpans, and strings,
/// which are interned per request. Spans with ids of the wrong length are rejected one by one (OTLP partial success);
/// anything that is not valid protobuf throws <see cref="OtlpMalformedException"/>.
/// </summary>
internal readonly struct OtlpProtobufTraceDecoder : IOtlpProtobufItemDecoder<OtlpSpans>
{
    public static void Decode(ReadOnlySpan<byte> payload, SpanBatch batch) => OtlpProtobufCommonDecoder.Decode<OtlpProtobufTraceDecoder, OtlpSpans>(payload, new(batch));

    public static void DecodeItem(OtlpProtobufCommonDecoder decoder, ReadOnlySpan<byte> message, OtlpSpans spans)
    {
        var scratch = decoder.Scratch;
        var span = new OtlpSpanFields(scratch);
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case Span_TraceId << 3 | Len:
                    span.TraceId = reader.ReadLengthDelimited();
                    break;
                case Span_SpanId << 3 | Len:
                    span.SpanId = reader.ReadLengthDelimited();
                    break;
                case Span_TraceState << 3 | Len:
                    span.TraceState = scratch.GetValue(reader.ReadLengthDelimited());
                    break;
                case Span_ParentSpanId << 3 | Len:
                    span.ParentSpanId = reader.ReadLengthDelimited();
                    break;
                case Span_Flags << 3 | Fixed32:
                    span.Flags = reader.ReadFixed32();
                    break;
                case Span_Name << 3 | Len:
                    span.Name = scratch.GetName(reader.ReadLengthDelimited());
                    break;
                case Span_Kind << 3 | Varint:
                    span.Kind = OtlpDecoding.ToSpanKind(reader.ReadVarint());
                    break;
                case Span_StartTimeUnixNano << 3 | Fixed64:
                    span.StartTime = (long)reader.ReadFixed64();
                    break;
                case Span_EndTimeUnixNano << 3 | Fixed64:
                    span.EndTime = (long)reader.ReadFixed64();
                    break;
                case Span_Attributes << 3 | Len:
                    scratch.KeyValues.Push(decoder.DecodeKeyValue(reader.ReadLengthDelimited(), depth: 4));
                    break;
                case Span_DroppedAttributesCount << 3 | Varint:
                    span.DroppedAttributes = (uint)reader.ReadVarint();
                    break;
                case Span_Events << 3 | Len:
                    scratch.Events.Push(DecodeEvent(decoder, reader.ReadLengthDelimited()));
                    break;
                case Span_DroppedEventsCount << 3 | Varint:
                    span.DroppedEvents = (uint)reader.ReadVarint();
                    break;
                case Span_Links << 3 | Len:
                    if (TryDecodeLink(decoder, reader.ReadLengthDelimited(), out var link))
                    {
                        scratch.Links.Push(link);
                    }
                    else
                    {
                        span.InvalidLinks++;
                    }

                    break;
                case Span_DroppedLinksCount << 3 | Varint:
                    span.DroppedLinks = (uint)reader.ReadVarint();
                    break;
                case Span_Status << 3 | Len:
                    DecodeStatus(reader.ReadLengthDelimited(), ref span.StatusMessage, ref span.StatusCode);
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        spans.Add(span);
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

    private static SpanEvent DecodeEvent(OtlpProtobufCommonDecoder decoder, ReadOnlySpan<byte> message)
    {
        var scratch = decoder.Scratch;
        var keyValues = scratch.KeyValues;
        long time = 0;
        var name = string.Empty;
        uint droppedAttributes = 0;
        var attributeStart = keyValues.Count;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case Event_TimeUnixNano << 3 | Fixed64:
                    time = (long)reader.ReadFixed64();
                    break;
                case Event_Name << 3 | Len:
                    name = scratch.GetName(reader.ReadLengthDelimited());
                    break;
                case Event_Attributes << 3 | Len:
                    keyValues.Push(decoder.DecodeKeyValue(reader.ReadLengthDelimited(), depth: 5));
                    break;
                case Event_DroppedAttributesCount << 3 | Varint:
                    droppedAttributes = (uint)reader.ReadVarint();
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        return new SpanEvent(time, name, keyValues.Pop(attributeStart), droppedAttributes);
    }

    /// <summary>False for a link whose ids have the wrong length: the model cannot hold it, so it is dropped.</summary>
    private static bool TryDecodeLink(OtlpProtobufCommonDecoder decoder, ReadOnlySpan<byte> message, out SpanLink link)
    {
        var scratch = decoder.Scratch;
        var keyValues = scratch.KeyValues;
        ReadOnlySpan<byte> traceId = default;
        ReadOnlySpan<byte> spanId = default;
        var traceState = string.Empty;
        uint flags = 0;
        var attributeStart = keyValues.Count;
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
                    traceState = scratch.GetValue(reader.ReadLengthDelimited());
                    break;
                case Link_Attributes << 3 | Len:
                    keyValues.Push(decoder.DecodeKeyValue(reader.ReadLengthDelimited(), depth: 5));
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
            keyValues.Truncate(attributeStart);
            link = default;
            return false;
        }

        link = new SpanLink(TraceId.FromBytes(traceId), SpanId.FromBytes(spanId), traceState, keyValues.Pop(attributeStart), flags);
        return true;
    }
}
