using System.Buffers.Text;
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
internal sealed class OtlpJsonTraceDecoder(DecoderScratch scratch)
{
    // Each level of an array or kvlist attribute value is three JSON levels; 256 allows what protobuf's 100 do.
    private const int MaxJsonDepth = 256;

    private readonly ScratchStack<KeyValue> _keyValues = scratch.KeyValues;
    private readonly ScratchStack<AnyValue> _values = scratch.Values;
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

    /// <summary>Nothing but whitespace may follow the request object (the reader throws on anything else).</summary>
    internal static void ExpectEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            OtlpMalformedException.Throw("The body has more JSON after the request object.");
        }
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

    private void DecodeResource(ref Utf8JsonReader reader, ref KeyValue[] attributes, ref uint droppedAttributes)
    {
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "attributes"u8))
            {
                attributes = OtlpDecoding.Append(attributes, DecodeKeyValues(ref reader, "resource.attributes"));
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

    private void DecodeScope(ref Utf8JsonReader reader, ref string name, ref string version, ref KeyValue[] attributes)
    {
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "name"u8))
            {
                name = ReadName(ref reader, "scope.name");
            }
            else if (Is(ref reader, "version"u8))
            {
                version = ReadName(ref reader, "scope.version");
            }
            else if (Is(ref reader, "attributes"u8))
            {
                attributes = OtlpDecoding.Append(attributes, DecodeKeyValues(ref reader, "scope.attributes"));
            }
            else
            {
                reader.Skip();
            }
        }
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

    private KeyValue[] DecodeKeyValues(ref Utf8JsonReader reader, string field)
    {
        var start = _keyValues.Count;
        PushKeyValues(ref reader, field);
        return _keyValues.Pop(start);
    }

    private void PushKeyValues(ref Utf8JsonReader reader, string field)
    {
        if (!EnterArray(ref reader, field))
        {
            return;
        }

        while (NextItem(ref reader))
        {
            _keyValues.Push(DecodeKeyValue(ref reader, field));
        }
    }

    private KeyValue DecodeKeyValue(ref Utf8JsonReader reader, string field)
    {
        ExpectObject(ref reader, field);
        var key = string.Empty;
        AnyValue value = default;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "key"u8))
            {
                key = ReadName(ref reader, "key");
            }
            else if (Is(ref reader, "value"u8))
            {
                if (EnterObject(ref reader, "value"))
                {
                    value = DecodeAnyValue(ref reader);
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return new KeyValue(key, value);
    }

    private AnyValue DecodeAnyValue(ref Utf8JsonReader reader)
    {
        AnyValue value = default;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "stringValue"u8, "string_value"u8))
            {
                value = NextIsNull(ref reader) ? value : AnyValue.FromString(ReadCurrentString(ref reader, "stringValue", isName: false));
            }
            else if (Is(ref reader, "boolValue"u8, "bool_value"u8))
            {
                value = NextIsNull(ref reader) ? value : AnyValue.FromBool(ReadCurrentBool(ref reader));
            }
            else if (Is(ref reader, "intValue"u8, "int_value"u8))
            {
                value = NextIsNull(ref reader) ? value : AnyValue.FromInt(ReadCurrentInt64(ref reader, "intValue"));
            }
            else if (Is(ref reader, "doubleValue"u8, "double_value"u8))
            {
                value = NextIsNull(ref reader) ? value : AnyValue.FromDouble(ReadCurrentDouble(ref reader));
            }
            else if (Is(ref reader, "bytesValue"u8, "bytes_value"u8))
            {
                value = NextIsNull(ref reader) ? value : AnyValue.FromBytes(ReadCurrentBase64(ref reader));
            }
            else if (Is(ref reader, "arrayValue"u8, "array_value"u8))
            {
                if (EnterObject(ref reader, "arrayValue"))
                {
                    value = AnyValue.FromArray(DecodeArrayValue(ref reader));
                }
            }
            else if (Is(ref reader, "kvlistValue"u8, "kvlist_value"u8))
            {
                if (EnterObject(ref reader, "kvlistValue"))
                {
                    value = AnyValue.FromKeyValueList(DecodeKeyValueList(ref reader));
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return value;
    }

    private AnyValue[] DecodeArrayValue(ref Utf8JsonReader reader)
    {
        var start = _values.Count;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "values"u8))
            {
                if (EnterArray(ref reader, "arrayValue.values"))
                {
                    while (NextItem(ref reader))
                    {
                        ExpectObject(ref reader, "arrayValue.values[]");
                        _values.Push(DecodeAnyValue(ref reader));
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return _values.Pop(start);
    }

    private KeyValue[] DecodeKeyValueList(ref Utf8JsonReader reader)
    {
        var start = _keyValues.Count;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "values"u8))
            {
                PushKeyValues(ref reader, "kvlistValue.values");
            }
            else
            {
                reader.Skip();
            }
        }

        return _keyValues.Pop(start);
    }

    private string ReadName(ref Utf8JsonReader reader, string field) =>
        NextIsNull(ref reader) ? string.Empty : ReadCurrentString(ref reader, field, isName: true);

    private string ReadValue(ref Utf8JsonReader reader, string field) =>
        NextIsNull(ref reader) ? string.Empty : ReadCurrentString(ref reader, field, isName: false);

    private static string ReadString(ref Utf8JsonReader reader, string field)
    {
        if (NextIsNull(ref reader))
        {
            return string.Empty;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            OtlpMalformedException.Throw($"{field} must be a JSON string.");
        }

        return Unescape(ref reader);
    }

    private string ReadCurrentString(ref Utf8JsonReader reader, string field, bool isName)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            OtlpMalformedException.Throw($"{field} must be a JSON string.");
        }

        if (reader.ValueIsEscaped)
        {
            return Unescape(ref reader);
        }

        return isName ? scratch.GetName(reader.ValueSpan) : scratch.GetValue(reader.ValueSpan);
    }

    private static string Unescape(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new OtlpMalformedException("A JSON string is not valid UTF-8.", e);
        }
    }

    /// <summary>Moves to the value of the current property; true when it is null (proto3 JSON: the field is unset).</summary>
    private static bool NextIsNull(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Null;
    }

    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    private static bool NextItem(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType != JsonTokenType.EndArray;
    }

    private static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> name) => reader.ValueTextEquals(name);

    private static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> camelCase, ReadOnlySpan<byte> snakeCase) =>
        reader.ValueTextEquals(camelCase) || reader.ValueTextEquals(snakeCase);

    private static bool EnterArray(ref Utf8JsonReader reader, string field)
    {
        if (NextIsNull(ref reader))
        {
            return false;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            OtlpMalformedException.Throw($"{field} must be a JSON array.");
        }

        return true;
    }

    private static bool EnterObject(ref Utf8JsonReader reader, string field)
    {
        if (NextIsNull(ref reader))
        {
            return false;
        }

        ExpectObject(ref reader, field);
        return true;
    }

    private static void ExpectObject(ref Utf8JsonReader reader, string field)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            OtlpMalformedException.Throw($"{field} must be a JSON object.");
        }
    }

    /// <summary>
    /// Decodes a hex id into <paramref name="destination"/>; returns its length in bytes, or -1 when it is not hex
    /// or does not fit, which the span validation then rejects like any other wrong length.
    /// </summary>
    private static int ReadHexId(ref Utf8JsonReader reader, scoped Span<byte> destination)
    {
        if (NextIsNull(ref reader))
        {
            return 0;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            OtlpMalformedException.Throw("Trace and span ids must be JSON strings of hex digits.");
        }

        var hex = reader.ValueSpan;
        if (reader.ValueIsEscaped || hex.Length % 2 != 0 || hex.Length / 2 > destination.Length)
        {
            return -1;
        }

        for (var i = 0; i < hex.Length / 2; i++)
        {
            var high = HexDigit(hex[2 * i]);
            var low = HexDigit(hex[(2 * i) + 1]);
            if ((high | low) < 0)
            {
                return -1;
            }

            destination[i] = (byte)((high << 4) | low);
        }

        return hex.Length / 2;
    }

    private static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private static ulong ReadUInt64(ref Utf8JsonReader reader, string field)
    {
        if (NextIsNull(ref reader))
        {
            return 0;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out var number))
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.String && TryParseWhole(reader.ValueSpan, out ulong text))
        {
            return text;
        }

        OtlpMalformedException.Throw($"{field} must be an unsigned integer, as a JSON number or a decimal string.");
        return 0;
    }

    private static uint ReadUInt32(ref Utf8JsonReader reader, string field)
    {
        var value = ReadUInt64(ref reader, field);
        if (value > uint.MaxValue)
        {
            OtlpMalformedException.Throw($"{field} must fit in 32 bits.");
        }

        return (uint)value;
    }

    private static long ReadCurrentInt64(ref Utf8JsonReader reader, string field)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number))
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.String && TryParseWhole(reader.ValueSpan, out long text))
        {
            return text;
        }

        OtlpMalformedException.Throw($"{field} must be a 64-bit integer, as a JSON number or a decimal string.");
        return 0;
    }

    private static double ReadCurrentDouble(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var number))
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.ValueSpan;
            if (text.SequenceEqual("NaN"u8))
            {
                return double.NaN;
            }

            if (text.SequenceEqual("Infinity"u8))
            {
                return double.PositiveInfinity;
            }

            if (text.SequenceEqual("-Infinity"u8))
            {
                return double.NegativeInfinity;
            }

            if (Utf8Parser.TryParse(text, out double parsed, out var consumed) && consumed == text.Length)
            {
                return parsed;
            }
        }

        OtlpMalformedException.Throw("doubleValue must be a JSON number, or \"NaN\", \"Infinity\" or \"-Infinity\".");
        return 0;
    }

    private static bool ReadCurrentBool(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
        {
            OtlpMalformedException.Throw("boolValue must be true or false.");
        }

        return reader.TokenType == JsonTokenType.True;
    }

    private static byte[] ReadCurrentBase64(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String || !reader.TryGetBytesFromBase64(out var bytes))
        {
            OtlpMalformedException.Throw("bytesValue must be a base64 JSON string.");
            return [];
        }

        return bytes;
    }

    /// <summary>An enum as its number (what OTLP/JSON requires) or, leniently, its proto name.</summary>
    private static ulong ReadEnum(ref Utf8JsonReader reader, string field, string[] names)
    {
        if (NextIsNull(ref reader))
        {
            return 0;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number))
        {
            return number < 0 ? ulong.MaxValue : (ulong)number;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            for (var i = 0; i < names.Length; i++)
            {
                if (reader.ValueTextEquals(names[i]))
                {
                    return (ulong)i;
                }
            }

            // An unknown name maps like an unknown number.
            return ulong.MaxValue;
        }

        OtlpMalformedException.Throw($"{field} must be an enum number.");
        return 0;
    }

    private static bool TryParseWhole(ReadOnlySpan<byte> text, out ulong value) =>
        Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length && text.Length > 0;

    private static bool TryParseWhole(ReadOnlySpan<byte> text, out long value) =>
        Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length && text.Length > 0;

    private static readonly string[] s_spanKindNames =
    [
        "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
    ];

    private static readonly string[] s_statusCodeNames = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
}
