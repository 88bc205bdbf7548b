using System.Text.Json;
using Ariadne.Model;
using Ariadne.Pipeline;
using Span = Ariadne.Model.Span;

namespace Ariadne.Receivers.Otlp.Json;

/// <summary>
/// Decodes an OTLP/JSON ExportTraceServiceRequest into a <see cref="SpanBatch"/> with <see cref="Utf8JsonReader"/>,
/// straight into the model (no DOM). Follows the OTLP/JSON rules: trace and span ids in hex, enums as integers (names
/// accepted too), 64-bit integers as numbers or decimal strings, bytes in base64, lowerCamelCase field names and,
/// as the proto3 JSON mapping allows, the original snake_case ones; unknown fields are ignored and null means unset.
/// </summary>
internal sealed class OtlpJsonTraceDecoder(DecoderScratch scratch) : OtlpJsonCommonDecoder(scratch)
{
    private readonly ScratchStack<KeyValue> _keyValues = scratch.KeyValues;
    private readonly ScratchStack<SpanEvent> _events = scratch.Events;
    private readonly ScratchStack<SpanLink> _links = scratch.Links;

    public static void Decode(ReadOnlySpan<byte> json, SpanBatch batch)
    {
        var scratch = DecoderScratch.Rent();
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxJsonDepth });
            new OtlpJsonTraceDecoder(scratch).DecodeRequest(ref reader, batch);
        }
        catch (JsonException e)
        {
            throw new OtlpMalformedException($"The body is not valid JSON: {e.Message}", e);
        }
        finally
        {
            DecoderScratch.Return(scratch);
        }
    }

    private void DecodeRequest(ref Utf8JsonReader reader, SpanBatch batch)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            OtlpMalformedException.Throw("An OTLP/JSON request must be a JSON object such as {\"resourceSpans\":[...]}.");
        }

        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "resourceSpans"u8, "resource_spans"u8))
            {
                if (EnterArray(ref reader, "resourceSpans"))
                {
                    while (NextItem(ref reader))
                    {
                        DecodeResourceSpans(ref reader, batch);
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        ExpectEnd(ref reader);
    }

    private void DecodeResourceSpans(ref Utf8JsonReader reader, SpanBatch batch)
    {
        ExpectObject(ref reader, "resourceSpans[]");
        var firstSpan = batch.Spans.Count;
        KeyValue[] attributes = [];
        uint droppedAttributes = 0;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "resource"u8))
            {
                if (EnterObject(ref reader, "resource"))
                {
                    DecodeResource(ref reader, ref attributes, ref droppedAttributes);
                }
            }
            else if (Is(ref reader, "scopeSpans"u8, "scope_spans"u8))
            {
                if (EnterArray(ref reader, "scopeSpans"))
                {
                    while (NextItem(ref reader))
                    {
                        DecodeScopeSpans(ref reader, batch);
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        OtlpDecoding.AssignResource(batch.Spans, firstSpan, attributes, droppedAttributes);
    }

    private void DecodeScopeSpans(ref Utf8JsonReader reader, SpanBatch batch)
    {
        ExpectObject(ref reader, "scopeSpans[]");
        var firstSpan = batch.Spans.Count;
        var name = string.Empty;
        var version = string.Empty;
        KeyValue[] attributes = [];
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "scope"u8))
            {
                if (EnterObject(ref reader, "scope"))
                {
                    DecodeScope(ref reader, ref name, ref version, ref attributes);
                }
            }
            else if (Is(ref reader, "spans"u8))
            {
                if (EnterArray(ref reader, "spans"))
                {
                    while (NextItem(ref reader))
                    {
                        DecodeSpan(ref reader, batch);
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        OtlpDecoding.AssignScope(batch.Spans, firstSpan, name, version, attributes);
    }

    private void DecodeSpan(ref Utf8JsonReader reader, SpanBatch batch)
    {
        ExpectObject(ref reader, "spans[]");
        Span<byte> traceId = stackalloc byte[TraceId.ByteLength];
        Span<byte> spanId = stackalloc byte[SpanId.ByteLength];
        Span<byte> parentSpanId = stackalloc byte[SpanId.ByteLength];
        var traceIdLength = 0;
        var spanIdLength = 0;
        var parentSpanIdLength = 0;
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
            else if (Is(ref reader, "parentSpanId"u8, "parent_span_id"u8))
            {
                parentSpanIdLength = ReadHexId(ref reader, parentSpanId);
            }
            else if (Is(ref reader, "traceState"u8, "trace_state"u8))
            {
                traceState = ReadValue(ref reader, "traceState");
            }
            else if (Is(ref reader, "flags"u8))
            {
                flags = ReadUInt32(ref reader, "flags");
            }
            else if (Is(ref reader, "name"u8))
            {
                name = ReadName(ref reader, "span.name");
            }
            else if (Is(ref reader, "kind"u8))
            {
                kind = OtlpDecoding.ToSpanKind(ReadEnum(ref reader, "kind", s_spanKindNames));
            }
            else if (Is(ref reader, "startTimeUnixNano"u8, "start_time_unix_nano"u8))
            {
                startTime = (long)ReadUInt64(ref reader, "startTimeUnixNano");
            }
            else if (Is(ref reader, "endTimeUnixNano"u8, "end_time_unix_nano"u8))
            {
                endTime = (long)ReadUInt64(ref reader, "endTimeUnixNano");
            }
            else if (Is(ref reader, "attributes"u8))
            {
                PushKeyValues(ref reader, "span.attributes");
            }
            else if (Is(ref reader, "droppedAttributesCount"u8, "dropped_attributes_count"u8))
            {
                droppedAttributes = ReadUInt32(ref reader, "droppedAttributesCount");
            }
            else if (Is(ref reader, "events"u8))
            {
                if (EnterArray(ref reader, "events"))
                {
                    while (NextItem(ref reader))
                    {
                        _events.Push(DecodeEvent(ref reader));
                    }
                }
            }
            else if (Is(ref reader, "droppedEventsCount"u8, "dropped_events_count"u8))
            {
                droppedEvents = ReadUInt32(ref reader, "droppedEventsCount");
            }
            else if (Is(ref reader, "links"u8))
            {
                if (EnterArray(ref reader, "links"))
                {
                    while (NextItem(ref reader))
                    {
                        if (TryDecodeLink(ref reader, out var link))
                        {
                            _links.Push(link);
                        }
                        else
                        {
                            invalidLinks++;
                        }
                    }
                }
            }
            else if (Is(ref reader, "droppedLinksCount"u8, "dropped_links_count"u8))
            {
                droppedLinks = ReadUInt32(ref reader, "droppedLinksCount");
            }
            else if (Is(ref reader, "status"u8))
            {
                if (EnterObject(ref reader, "status"))
                {
                    DecodeStatus(ref reader, ref statusMessage, ref statusCode);
                }
            }
            else
            {
                reader.Skip();
            }
        }

        var invalidId = OtlpDecoding.ValidateIds(traceIdLength, spanIdLength, parentSpanIdLength);
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
            ParentSpanId = parentSpanIdLength == 0 ? default : SpanId.FromBytes(parentSpanId),
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

    private SpanEvent DecodeEvent(ref Utf8JsonReader reader)
    {
        ExpectObject(ref reader, "events[]");
        long time = 0;
        var name = string.Empty;
        uint droppedAttributes = 0;
        var attributeStart = _keyValues.Count;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "timeUnixNano"u8, "time_unix_nano"u8))
            {
                time = (long)ReadUInt64(ref reader, "timeUnixNano");
            }
            else if (Is(ref reader, "name"u8))
            {
                name = ReadName(ref reader, "event.name");
            }
            else if (Is(ref reader, "attributes"u8))
            {
                PushKeyValues(ref reader, "event.attributes");
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

        return new SpanEvent(time, name, _keyValues.Pop(attributeStart), droppedAttributes);
    }

    private bool TryDecodeLink(ref Utf8JsonReader reader, out SpanLink link)
    {
        ExpectObject(ref reader, "links[]");
        Span<byte> traceId = stackalloc byte[TraceId.ByteLength];
        Span<byte> spanId = stackalloc byte[SpanId.ByteLength];
        var traceIdLength = 0;
        var spanIdLength = 0;
        var traceState = string.Empty;
        uint flags = 0;
        var attributeStart = _keyValues.Count;
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
                traceState = ReadValue(ref reader, "link.traceState");
            }
            else if (Is(ref reader, "attributes"u8))
            {
                PushKeyValues(ref reader, "link.attributes");
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
            _keyValues.Truncate(attributeStart);
            link = default;
            return false;
        }

        link = new SpanLink(TraceId.FromBytes(traceId), SpanId.FromBytes(spanId), traceState, _keyValues.Pop(attributeStart), flags);
        return true;
    }

    private static readonly string[] s_spanKindNames =
    [
        "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
    ];

    private static readonly string[] s_statusCodeNames = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
}
