using System.Text.Json;
using Ariadne.Model;
using Ariadne.Pipeline;
using static Ariadne.Receivers.Otlp.Json.OtlpJsonPrimitives;

namespace Ariadne.Receivers.Otlp.Json;

/// <summary>
/// Decodes an OTLP/JSON ExportTraceServiceRequest into a <see cref="SpanBatch"/>: the spans, read into
/// <see cref="OtlpSpans"/>; the envelope and the OTLP/JSON rules are <see cref="OtlpJsonCommonDecoder"/>'s: trace and
/// span ids in hex, enums as integers (names accepted too), 64-bit integers as numbers or decimal strings, bytes in
/// base64, lowerCamelCase field names and, as the proto3 JSON mapping allows, the original snake_case ones; unknown
/// fields are ignored and null means unset.
/// </summary>
internal readonly struct OtlpJsonTraceDecoder : IOtlpJsonItemDecoder<OtlpSpans>
{
    public static OtlpJsonEnvelopeNames Names { get; } = new("request", "resourceSpans", "scopeSpans", "spans");

    public static void Decode(ReadOnlySpan<byte> json, SpanBatch batch) => OtlpJsonCommonDecoder.Decode<OtlpJsonTraceDecoder, OtlpSpans>(json, new(batch));

    public static void DecodeItem(OtlpJsonCommonDecoder decoder, ref Utf8JsonReader reader, OtlpSpans spans)
    {
        var scratch = decoder.Scratch;
        scoped OtlpSpanFields span = new(scratch);

        // A byte more than an id: see HexId.
        Span<byte> traceId = stackalloc byte[TraceId.ByteLength + 1];
        Span<byte> spanId = stackalloc byte[SpanId.ByteLength + 1];
        Span<byte> parentSpanId = stackalloc byte[SpanId.ByteLength + 1];
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "traceId"u8, "trace_id"u8))
            {
                span.TraceId = HexId(traceId, ReadHexId(ref reader, traceId));
            }
            else if (Is(ref reader, "spanId"u8, "span_id"u8))
            {
                span.SpanId = HexId(spanId, ReadHexId(ref reader, spanId));
            }
            else if (Is(ref reader, "parentSpanId"u8, "parent_span_id"u8))
            {
                span.ParentSpanId = HexId(parentSpanId, ReadHexId(ref reader, parentSpanId));
            }
            else if (Is(ref reader, "traceState"u8, "trace_state"u8))
            {
                span.TraceState = decoder.ReadValue(ref reader, "traceState");
            }
            else if (Is(ref reader, "flags"u8))
            {
                span.Flags = ReadUInt32(ref reader, "flags");
            }
            else if (Is(ref reader, "name"u8))
            {
                span.Name = decoder.ReadName(ref reader, "span.name");
            }
            else if (Is(ref reader, "kind"u8))
            {
                span.Kind = OtlpDecoding.ToSpanKind(ReadEnum(ref reader, "kind", s_spanKindNames));
            }
            else if (Is(ref reader, "startTimeUnixNano"u8, "start_time_unix_nano"u8))
            {
                span.StartTime = (long)ReadUInt64(ref reader, "startTimeUnixNano");
            }
            else if (Is(ref reader, "endTimeUnixNano"u8, "end_time_unix_nano"u8))
            {
                span.EndTime = (long)ReadUInt64(ref reader, "endTimeUnixNano");
            }
            else if (Is(ref reader, "attributes"u8))
            {
                decoder.PushKeyValues(ref reader, "span.attributes");
            }
            else if (Is(ref reader, "droppedAttributesCount"u8, "dropped_attributes_count"u8))
            {
                span.DroppedAttributes = ReadUInt32(ref reader, "droppedAttributesCount");
            }
            else if (Is(ref reader, "events"u8))
            {
                if (EnterArray(ref reader, "events"))
                {
                    while (NextItem(ref reader))
                    {
                        scratch.Events.Push(DecodeEvent(decoder, ref reader));
                    }
                }
            }
            else if (Is(ref reader, "droppedEventsCount"u8, "dropped_events_count"u8))
            {
                span.DroppedEvents = ReadUInt32(ref reader, "droppedEventsCount");
            }
            else if (Is(ref reader, "links"u8))
            {
                if (EnterArray(ref reader, "links"))
                {
                    while (NextItem(ref reader))
                    {
                        if (TryDecodeLink(decoder, ref reader, out var link))
                        {
                            scratch.Links.Push(link);
                        }
                        else
                        {
                            span.InvalidLinks++;
                        }
                    }
                }
            }
            else if (Is(ref reader, "droppedLinksCount"u8, "dropped_links_count"u8))
            {
                span.DroppedLinks = ReadUInt32(ref reader, "droppedLinksCount");
            }
            else if (Is(ref reader, "status"u8))
            {
                if (EnterObject(ref reader, "status"))
                {
                    DecodeStatus(ref reader, ref span.StatusMessage, ref span.StatusCode);
                }
            }
            else
            {
                reader.Skip();
            }
        }

        spans.Add(span);
    }

    private static void DecodeStatus(ref Utf8JsonReader reader, ref string message, ref StatusCode code)
    {
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "message"u8))
            {
                message = ReadString(ref reader, "status.message");
            }
            else if (Is(ref reader, "code"u8))
            {
                code = OtlpDecoding.ToStatusCode(ReadEnum(ref reader, "status.code", s_statusCodeNames));
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static SpanEvent DecodeEvent(OtlpJsonCommonDecoder decoder, ref Utf8JsonReader reader)
    {
        ExpectObject(ref reader, "events[]");
        var keyValues = decoder.Scratch.KeyValues;
        long time = 0;
        var name = string.Empty;
        uint droppedAttributes = 0;
        var attributeStart = keyValues.Count;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "timeUnixNano"u8, "time_unix_nano"u8))
            {
                time = (long)ReadUInt64(ref reader, "timeUnixNano");
            }
            else if (Is(ref reader, "name"u8))
            {
                name = decoder.ReadName(ref reader, "event.name");
            }
            else if (Is(ref reader, "attributes"u8))
            {
                decoder.PushKeyValues(ref reader, "event.attributes");
            }
            else if (Is(ref reader, "droppedAttributesCount"u8, "dropped_attributes_count"u8))
            {
                droppedAttributes = ReadUInt32(ref reader, "droppedAttributesCount");
            }
            else
            {
                reader.Skip();
            }
        }

        return new SpanEvent(time, name, keyValues.Pop(attributeStart), droppedAttributes);
    }

    private static bool TryDecodeLink(OtlpJsonCommonDecoder decoder, ref Utf8JsonReader reader, out SpanLink link)
    {
        ExpectObject(ref reader, "links[]");
        var keyValues = decoder.Scratch.KeyValues;
        Span<byte> traceId = stackalloc byte[TraceId.ByteLength];
        Span<byte> spanId = stackalloc byte[SpanId.ByteLength];
        var traceIdLength = 0;
        var spanIdLength = 0;
        var traceState = string.Empty;
        uint flags = 0;
        var attributeStart = keyValues.Count;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "traceId"u8, "trace_id"u8))
            {
                traceIdLength = ReadHexId(ref reader, traceId);
            }
            else if (Is(ref reader, "spanId"u8, "span_id"u8))
            {
                spanIdLength = ReadHexId(ref reader, spanId);
            }
            else if (Is(ref reader, "traceState"u8, "trace_state"u8))
            {
                traceState = decoder.ReadValue(ref reader, "link.traceState");
            }
            else if (Is(ref reader, "attributes"u8))
            {
                decoder.PushKeyValues(ref reader, "link.attributes");
            }
            else if (Is(ref reader, "flags"u8))
            {
                flags = ReadUInt32(ref reader, "link.flags");
            }
            else
            {
                reader.Skip();
            }
        }

        if (traceIdLength != TraceId.ByteLength || spanIdLength != SpanId.ByteLength)
        {
            keyValues.Truncate(attributeStart);
            link = default;
            return false;
        }

        link = new SpanLink(TraceId.FromBytes(traceId), SpanId.FromBytes(spanId), traceState, keyValues.Pop(attributeStart), flags);
        return true;
    }

    private static readonly string[] s_spanKindNames =
    [
        "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
    ];

    private static readonly string[] s_statusCodeNames = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
}
