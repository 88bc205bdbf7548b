using System.Text;
using System.Text.Json;
using Ariadne.Model;
using static Ariadne.Receivers.Otlp.Json.OtlpJsonPrimitives;

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
/// signal alike: the envelope (request → resource* → scope* → items) and the common/v1 and resource/v1 messages (Resource, InstrumentationScope, KeyValue, AnyValue), read into the scratch
/// stacks and interned through the request's string table. The proto3 JSON mapping's primitives (names in both
/// spellings, null as unset, 64-bit integers, hex ids, enums) are <see cref="OtlpJsonPrimitives"/>. The items themselves are the signal's
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
}
