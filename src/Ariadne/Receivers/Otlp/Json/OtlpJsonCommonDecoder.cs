using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Ariadne.Model;

namespace Ariadne.Receivers.Otlp.Json;

/// <summary>
/// What differs by signal in decoding an OTLP/JSON export request: the names in its envelope, and one item (a span,
/// a log record), read and handed to <typeparamref name="TSignal"/>. A struct per signal, so
/// <see cref="OtlpJsonCommonDecoder.Decode{TItems, TSignal}"/> is compiled once per signal, with direct calls and no
/// virtual dispatch or delegate per item.
/// </summary>
internal interface IOtlpJsonItemDecoder<TSignal>
    where TSignal : struct, IOtlpSignal
{
    static abstract OtlpJsonEnvelopeNames Names { get; }

    /// <summary>Decodes one item, the reader on its start.</summary>
    static abstract void DecodeItem(OtlpJsonCommonDecoder decoder, ref Utf8JsonReader reader, TSignal signal);
}

/// <summary>
/// A signal's field names in the OTLP/JSON envelope (e.g. resourceSpans → scopeSpans → spans), and the message for a
/// body that is not a request object, which shows what one looks like.
/// </summary>
internal sealed class OtlpJsonEnvelopeNames(string request, string resourceItems, string scopeItems, string items)
{
    public string NotAnObject { get; } = $"An OTLP/JSON {request} must be a JSON object such as {{\"{resourceItems}\":[...]}}.";

    public OtlpJsonFieldName ResourceItems { get; } = new(resourceItems);

    public OtlpJsonFieldName ScopeItems { get; } = new(scopeItems);

    public OtlpJsonFieldName Items { get; } = new(items);
}

/// <summary>
/// An array field of the envelope in the two spellings the proto3 JSON mapping accepts, lowerCamelCase and the proto
/// name made from it (scopeSpans, scope_spans), and as error messages name the array and its items.
/// </summary>
internal sealed class OtlpJsonFieldName(string camelCase)
{
    public byte[] CamelCase { get; } = Encoding.UTF8.GetBytes(camelCase);

    public byte[] SnakeCase { get; } = Encoding.UTF8.GetBytes(string.Concat(camelCase.Select(c => char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : c.ToString())));

    public string Name => camelCase;

    public string ItemName { get; } = camelCase + "[]";
}

/// <summary>
/// Decodes OTLP/JSON export requests with <see cref="Utf8JsonReader"/>, straight into the model (no DOM), every
/// signal alike: the envelope (request → resource* → scope* → items), the proto3 JSON mapping rules (camelCase and
/// snake_case names, null as unset, 64-bit integers as numbers or strings, hex ids, enums by number or name) and the
/// common/v1 and resource/v1 messages (Resource, InstrumentationScope, KeyValue, AnyValue), read into the scratch
/// stacks and interned through the request's string table. The items themselves are the signal's
/// (<see cref="IOtlpJsonItemDecoder{TSignal}"/>). Unknown fields are ignored; anything else that is not OTLP/JSON throws
/// <see cref="OtlpMalformedException"/>.
/// </summary>
internal sealed class OtlpJsonCommonDecoder(DecoderScratch scratch)
{
    private readonly ScratchStack<KeyValue> _keyValues = scratch.KeyValues;
    private readonly ScratchStack<AnyValue> _values = scratch.Values;

    public DecoderScratch Scratch { get; } = scratch;

    // Each level of an array or kvlist attribute value is three JSON levels; 256 allows what protobuf's 100 do.
    private const int MaxJsonDepth = 256;

    public static void Decode<TItems, TSignal>(ReadOnlySpan<byte> json, TSignal signal)
        where TItems : struct, IOtlpJsonItemDecoder<TSignal>
        where TSignal : struct, IOtlpSignal
    {
        using var lease = DecoderScratch.Rent();
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxJsonDepth });
            new OtlpJsonCommonDecoder(lease.Scratch).DecodeRequest<TItems, TSignal>(ref reader, signal);
        }
        catch (JsonException e)
        {
            throw new OtlpMalformedException($"The body is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Nothing but whitespace may follow the request object (the reader throws on anything else).</summary>
    internal static void ExpectEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            OtlpMalformedException.Throw("The body has more JSON after the request object.");
        }
    }

    private void DecodeRequest<TItems, TSignal>(ref Utf8JsonReader reader, TSignal signal)
        where TItems : struct, IOtlpJsonItemDecoder<TSignal>
        where TSignal : struct, IOtlpSignal
    {
        var names = TItems.Names;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            OtlpMalformedException.Throw(names.NotAnObject);
        }

        while (NextProperty(ref reader))
        {
            if (Is(ref reader, names.ResourceItems))
            {
                if (EnterArray(ref reader, names.ResourceItems.Name))
                {
                    while (NextItem(ref reader))
                    {
                        ExpectObject(ref reader, names.ResourceItems.ItemName);
                        DecodeLevel<TItems, TSignal>(ref reader, signal, scope: false);
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

    /// <summary>
    /// A resourceSpans[] or, when <paramref name="scope"/>, a scopeSpans[] object (or the logs' likewise): both are
    /// laid out alike. The context (<c>resource</c>, <c>scope</c>) is shared by the items of the level once it is read
    /// (it may follow them); the contents are scope levels or items.
    /// </summary>
    private void DecodeLevel<TItems, TSignal>(ref Utf8JsonReader reader, TSignal signal, bool scope)
        where TItems : struct, IOtlpJsonItemDecoder<TSignal>
        where TSignal : struct, IOtlpSignal
    {
        var contents = scope ? TItems.Names.Items : TItems.Names.ScopeItems;
        var level = new OtlpEnvelopeLevel(signal.Count);
        while (NextProperty(ref reader))
        {
            if (scope ? Is(ref reader, "scope"u8) : Is(ref reader, "resource"u8))
            {
                if (!EnterObject(ref reader, scope ? "scope" : "resource"))
                {
                    continue;
                }

                if (scope)
                {
                    DecodeScope(ref reader, ref level.Name, ref level.Version, ref level.Attributes);
                }
                else
                {
                    DecodeResource(ref reader, ref level.Attributes, ref level.DroppedAttributes);
                }
            }
            else if (Is(ref reader, contents))
            {
                if (!EnterArray(ref reader, contents.Name))
                {
                    continue;
                }

                while (NextItem(ref reader))
                {
                    ExpectObject(ref reader, contents.ItemName);
                    if (scope)
                    {
                        TItems.DecodeItem(this, ref reader, signal);
                    }
                    else
                    {
                        DecodeLevel<TItems, TSignal>(ref reader, signal, scope: true);
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        level.End(signal, scope);
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

    private KeyValue[] DecodeKeyValues(ref Utf8JsonReader reader, string field)
    {
        var start = _keyValues.Count;
        PushKeyValues(ref reader, field);
        return _keyValues.Pop(start);
    }

    public void PushKeyValues(ref Utf8JsonReader reader, string field)
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

    public AnyValue DecodeAnyValue(ref Utf8JsonReader reader)
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

    public string ReadName(ref Utf8JsonReader reader, string field) =>
        NextIsNull(ref reader) ? string.Empty : ReadCurrentString(ref reader, field, isName: true);

    public string ReadValue(ref Utf8JsonReader reader, string field) =>
        NextIsNull(ref reader) ? string.Empty : ReadCurrentString(ref reader, field, isName: false);

    internal static string ReadString(ref Utf8JsonReader reader, string field)
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

        return isName ? Scratch.GetName(reader.ValueSpan) : Scratch.GetValue(reader.ValueSpan);
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

    internal static bool NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    internal static bool NextItem(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType != JsonTokenType.EndArray;
    }

    internal static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> name) => reader.ValueTextEquals(name);

    internal static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> camelCase, ReadOnlySpan<byte> snakeCase) =>
        reader.ValueTextEquals(camelCase) || reader.ValueTextEquals(snakeCase);

    private static bool Is(ref Utf8JsonReader reader, OtlpJsonFieldName field) => Is(ref reader, field.CamelCase, field.SnakeCase);

    internal static bool EnterArray(ref Utf8JsonReader reader, string field)
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

    internal static bool EnterObject(ref Utf8JsonReader reader, string field)
    {
        if (NextIsNull(ref reader))
        {
            return false;
        }

        ExpectObject(ref reader, field);
        return true;
    }

    internal static void ExpectObject(ref Utf8JsonReader reader, string field)
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
    internal static int ReadHexId(ref Utf8JsonReader reader, scoped Span<byte> destination)
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

    /// <summary>
    /// The id <see cref="ReadHexId"/> read into <paramref name="buffer"/>, which has a byte more than the id; when
    /// it was not hex or did not fit, the whole buffer: a length no id has, which the validation rejects like any
    /// other wrong length.
    /// </summary>
    internal static ReadOnlySpan<byte> HexId(ReadOnlySpan<byte> buffer, int length) => length < 0 ? buffer : buffer[..length];

    private static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    internal static ulong ReadUInt64(ref Utf8JsonReader reader, string field)
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

    internal static uint ReadUInt32(ref Utf8JsonReader reader, string field)
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
    internal static ulong ReadEnum(ref Utf8JsonReader reader, string field, string[] names)
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
}
