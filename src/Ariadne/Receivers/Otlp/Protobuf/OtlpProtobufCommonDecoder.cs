using System.Text.Unicode;
using Ariadne.Model;
using static Ariadne.Receivers.Otlp.Protobuf.OtlpCommonFieldNumbers;
using static Ariadne.Receivers.Otlp.Protobuf.OtlpEnvelopeFieldNumbers;
using static Ariadne.Receivers.Otlp.Protobuf.WireType;

namespace Ariadne.Receivers.Otlp.Protobuf;

/// <summary>
/// What differs by signal in decoding an OTLP export request from protobuf: one item (the bytes of a Span or a
/// LogRecord message), read and handed to <typeparamref name="TSignal"/>. A struct per signal, so
/// <see cref="OtlpProtobufCommonDecoder.Decode{TItems, TSignal}"/> is compiled once per signal, with direct calls and
/// no virtual dispatch or delegate per item.
/// </summary>
internal interface IOtlpProtobufItemDecoder<TSignal>
    where TSignal : struct, IOtlpSignal
{
    static abstract void DecodeItem(OtlpProtobufCommonDecoder decoder, ReadOnlySpan<byte> message, TSignal signal);
}

/// <summary>
/// Decodes OTLP export requests (or *Data messages: same fields) from protobuf bytes, every signal alike: the
/// envelope (request → Resource* → Scope* → items), and common/v1 and resource/v1 (Resource, InstrumentationScope,
/// KeyValue, AnyValue), read into the scratch stacks and interned through the request's string table, with the same
/// depth limit and UTF-8 checks as the generated parsers. The items themselves are the signal's
/// (<see cref="IOtlpProtobufItemDecoder{TSignal}"/>). Anything that is not valid protobuf throws <see cref="OtlpMalformedException"/>.
/// </summary>
internal sealed class OtlpProtobufCommonDecoder(DecoderScratch scratch)
{
    /// <summary>
    /// Google.Protobuf's default recursion limit, so both parsers accept the same nesting: the request is depth 0,
    /// ResourceSpans 1, ScopeSpans 2, Span 3, its attributes 4, and each array or kvlist level adds two.
    /// </summary>
    internal const int MaxMessageDepth = 100;

    private readonly ScratchStack<KeyValue> _keyValues = scratch.KeyValues;
    private readonly ScratchStack<AnyValue> _values = scratch.Values;

    public DecoderScratch Scratch { get; } = scratch;

    public static void Decode<TItems, TSignal>(ReadOnlySpan<byte> payload, TSignal signal)
        where TItems : struct, IOtlpProtobufItemDecoder<TSignal>
        where TSignal : struct, IOtlpSignal
    {
        using var lease = DecoderScratch.Rent();
        new OtlpProtobufCommonDecoder(lease.Scratch).DecodeRequest<TItems, TSignal>(payload, signal);
    }

    private void DecodeRequest<TItems, TSignal>(ReadOnlySpan<byte> payload, TSignal signal)
        where TItems : struct, IOtlpProtobufItemDecoder<TSignal>
        where TSignal : struct, IOtlpSignal
    {
        var reader = new ProtobufReader(payload);
        while (reader.TryReadTag(out var tag))
        {
            if (tag == (ExportRequest_ResourceLevel << 3 | Len))
            {
                DecodeLevel<TItems, TSignal>(reader.ReadLengthDelimited(), signal, scope: false);
            }
            else
            {
                reader.SkipField(tag);
            }
        }
    }

    /// <summary>
    /// A Resource{Spans,Logs} or, when <paramref name="scope"/>, a Scope{Spans,Logs} message: both are laid out alike
    /// (context, contents, schema_url). The context is the Resource or the InstrumentationScope, which the items of
    /// the level share once it is read (on the wire it may follow them); the contents are scope levels or items.
    /// </summary>
    private void DecodeLevel<TItems, TSignal>(ReadOnlySpan<byte> message, TSignal signal, bool scope)
        where TItems : struct, IOtlpProtobufItemDecoder<TSignal>
        where TSignal : struct, IOtlpSignal
    {
        var level = new OtlpEnvelopeLevel(signal.Count);
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case Level_Context << 3 | Len when scope:
                    DecodeScope(reader.ReadLengthDelimited(), ref level.Name, ref level.Version, ref level.Attributes);
                    break;
                case Level_Context << 3 | Len:
                    DecodeResource(reader.ReadLengthDelimited(), ref level.Attributes, ref level.DroppedAttributes);
                    break;
                case Level_SchemaUrl << 3 | Len:
                    ValidateUtf8(reader.ReadLengthDelimited());
                    break;
                case Level_Contents << 3 | Len when scope:
                    TItems.DecodeItem(this, reader.ReadLengthDelimited(), signal);
                    break;
                case Level_Contents << 3 | Len:
                    DecodeLevel<TItems, TSignal>(reader.ReadLengthDelimited(), signal, scope: true);
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        level.End(signal, scope);
    }

    // A message field that occurs twice is merged, as protobuf specifies: repeated fields append, scalars overwrite.
    private void DecodeResource(ReadOnlySpan<byte> message, ref KeyValue[] attributes, ref uint droppedAttributes)
    {
        var start = _keyValues.Count;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case Resource_Attributes << 3 | Len:
                    _keyValues.Push(DecodeKeyValue(reader.ReadLengthDelimited(), depth: 3));
                    break;
                case Resource_DroppedAttributesCount << 3 | Varint:
                    droppedAttributes = (uint)reader.ReadVarint();
                    break;
                case Resource_EntityRefs << 3 | Len:
                    ValidateEntityRef(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        attributes = OtlpDecoding.Append(attributes, _keyValues.Pop(start));
    }

    private void DecodeScope(ReadOnlySpan<byte> message, ref string name, ref string version, ref KeyValue[] attributes)
    {
        var start = _keyValues.Count;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case InstrumentationScope_Name << 3 | Len:
                    name = Scratch.GetName(reader.ReadLengthDelimited());
                    break;
                case InstrumentationScope_Version << 3 | Len:
                    version = Scratch.GetName(reader.ReadLengthDelimited());
                    break;
                case InstrumentationScope_Attributes << 3 | Len:
                    _keyValues.Push(DecodeKeyValue(reader.ReadLengthDelimited(), depth: 4));
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        attributes = OtlpDecoding.Append(attributes, _keyValues.Pop(start));
    }

    public KeyValue DecodeKeyValue(ReadOnlySpan<byte> message, int depth)
    {
        CheckDepth(depth);
        var key = string.Empty;
        AnyValue value = default;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case KeyValue_Key << 3 | Len:
                    key = Scratch.GetName(reader.ReadLengthDelimited());
                    break;
                case KeyValue_Value << 3 | Len:
                    value = OtlpDecoding.Merge(value, DecodeAnyValue(reader.ReadLengthDelimited(), depth + 1));
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        return new KeyValue(key, value);
    }

    public AnyValue DecodeAnyValue(ReadOnlySpan<byte> message, int depth)
    {
        CheckDepth(depth);
        AnyValue value = default;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            // A oneof: the last member on the wire wins (an array or kvlist met twice is merged).
            switch (tag)
            {
                case AnyValue_StringValue << 3 | Len:
                    value = AnyValue.FromString(Scratch.GetValue(reader.ReadLengthDelimited()));
                    break;
                case AnyValue_BoolValue << 3 | Varint:
                    value = AnyValue.FromBool(reader.ReadVarint() != 0);
                    break;
                case AnyValue_IntValue << 3 | Varint:
                    value = AnyValue.FromInt((long)reader.ReadVarint());
                    break;
                case AnyValue_DoubleValue << 3 | Fixed64:
                    value = AnyValue.FromDouble(BitConverter.UInt64BitsToDouble(reader.ReadFixed64()));
                    break;
                case AnyValue_ArrayValue << 3 | Len:
                    value = OtlpDecoding.Merge(value, AnyValue.FromArray(DecodeArrayValue(reader.ReadLengthDelimited(), depth + 1)));
                    break;
                case AnyValue_KvlistValue << 3 | Len:
                    value = OtlpDecoding.Merge(value, AnyValue.FromKeyValueList(DecodeKeyValueList(reader.ReadLengthDelimited(), depth + 1)));
                    break;
                case AnyValue_BytesValue << 3 | Len:
                    value = AnyValue.FromBytes(reader.ReadLengthDelimited().ToArray());
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        return value;
    }

    private AnyValue[] DecodeArrayValue(ReadOnlySpan<byte> message, int depth)
    {
        CheckDepth(depth);
        var start = _values.Count;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            if (tag == (ArrayValue_Values << 3 | Len))
            {
                _values.Push(DecodeAnyValue(reader.ReadLengthDelimited(), depth + 1));
            }
            else
            {
                reader.SkipField(tag);
            }
        }

        return _values.Pop(start);
    }

    private KeyValue[] DecodeKeyValueList(ReadOnlySpan<byte> message, int depth)
    {
        CheckDepth(depth);
        var start = _keyValues.Count;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            if (tag == (KeyValueList_Values << 3 | Len))
            {
                _keyValues.Push(DecodeKeyValue(reader.ReadLengthDelimited(), depth + 1));
            }
            else
            {
                reader.SkipField(tag);
            }
        }

        return _keyValues.Pop(start);
    }

    // The fields below are not kept, but they are strings: invalid UTF-8 in them makes the request malformed for
    // the generated parsers, so it does here too.
    private static void ValidateUtf8(ReadOnlySpan<byte> utf8)
    {
        if (!Utf8.IsValid(utf8))
        {
            OtlpMalformedException.Throw("A string field is not valid UTF-8.");
        }
    }

    private static void ValidateEntityRef(ReadOnlySpan<byte> message)
    {
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            if ((tag & 7) == Len && tag >> 3 is >= 1 and <= 4)
            {
                ValidateUtf8(reader.ReadLengthDelimited());
            }
            else
            {
                reader.SkipField(tag);
            }
        }
    }

    private static void CheckDepth(int depth)
    {
        if (depth > MaxMessageDepth)
        {
            OtlpMalformedException.Throw($"Attribute values are nested more than {MaxMessageDepth} messages deep.");
        }
    }
}
