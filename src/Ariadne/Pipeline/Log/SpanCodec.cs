using System.Buffers;
using System.Buffers.Binary;
using Ariadne.Model;

namespace Ariadne.Pipeline.Log;

/// <summary>
/// Ariadne's compact binary form of spans and attributes: LEB128 varints, zigzag for signed numbers, UTF-8 strings
/// with a length prefix. Used for WAL records and for the attribute/event/link columns of blocks
/// (docs/storage-format.md describes the bytes).
/// </summary>
public static class SpanCodec
{
    private const int MaxOneBytePrefixChars = 127 / 3;

    public static void WriteVarint(IBufferWriter<byte> writer, ulong value)
    {
        var span = writer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        writer.Advance(i);
    }

    public static void WriteSigned(IBufferWriter<byte> writer, long value) =>
        WriteVarint(writer, (ulong)((value << 1) ^ (value >> 63)));

    public static void WriteString(IBufferWriter<byte> writer, string value)
    {
        // Most strings (names, keys, ids) are short: at most 3 bytes per UTF-16 unit keeps the length in one varint
        // byte, so they are transcoded once, straight after it, instead of measured first.
        if (value.Length <= MaxOneBytePrefixChars)
        {
            var target = writer.GetSpan(1 + (value.Length * 3));
            var written = System.Text.Encoding.UTF8.GetBytes(value, target[1..]);
            target[0] = (byte)written;
            writer.Advance(1 + written);
            return;
        }

        var byteCount = System.Text.Encoding.UTF8.GetByteCount(value);
        WriteVarint(writer, (ulong)byteCount);
        if (byteCount > 0)
        {
            var span = writer.GetSpan(byteCount);
            System.Text.Encoding.UTF8.GetBytes(value, span);
            writer.Advance(byteCount);
        }
    }

    public static void WriteBytes(IBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        WriteVarint(writer, (ulong)value.Length);
        writer.Write(value);
    }

    public static void WriteFixed64(IBufferWriter<byte> writer, ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(writer.GetSpan(8), value);
        writer.Advance(8);
    }

    public static void WriteAttributes(IBufferWriter<byte> writer, KeyValue[] attributes)
    {
        WriteVarint(writer, (ulong)attributes.Length);
        foreach (var kv in attributes)
        {
            WriteString(writer, kv.Key);
            WriteValue(writer, kv.Value);
        }
    }

    public static void WriteValue(IBufferWriter<byte> writer, AnyValue value)
    {
        writer.GetSpan(1)[0] = (byte)value.Type;
        writer.Advance(1);
        switch (value.Type)
        {
            case AnyValueType.String:
                WriteString(writer, value.AsString);
                break;
            case AnyValueType.Bool:
                WriteVarint(writer, value.AsBool ? 1UL : 0UL);
                break;
            case AnyValueType.Int:
                WriteSigned(writer, value.AsInt);
                break;
            case AnyValueType.Double:
                WriteFixed64(writer, (ulong)BitConverter.DoubleToInt64Bits(value.AsDouble));
                break;
            case AnyValueType.Bytes:
                WriteBytes(writer, value.AsBytes);
                break;
            case AnyValueType.Array:
                var items = value.AsArray;
                WriteVarint(writer, (ulong)items.Length);
                foreach (var item in items)
                {
                    WriteValue(writer, item);
                }

                break;
            case AnyValueType.KeyValueList:
                WriteAttributes(writer, value.AsKeyValueList);
                break;
        }
    }

    public static void WriteEvents(IBufferWriter<byte> writer, SpanEvent[] events)
    {
        WriteVarint(writer, (ulong)events.Length);
        foreach (var e in events)
        {
            WriteSigned(writer, e.TimeUnixNano);
            WriteString(writer, e.Name);
            WriteAttributes(writer, e.Attributes);
            WriteVarint(writer, e.DroppedAttributesCount);
        }
    }

    public static void WriteLinks(IBufferWriter<byte> writer, SpanLink[] links)
    {
        WriteVarint(writer, (ulong)links.Length);
        foreach (var link in links)
        {
            WriteFixed64(writer, link.TraceId.High);
            WriteFixed64(writer, link.TraceId.Low);
            WriteFixed64(writer, link.SpanId.Value);
            WriteString(writer, link.TraceState);
            WriteAttributes(writer, link.Attributes);
            WriteVarint(writer, link.Flags);
        }
    }

    /// <summary>
    /// Writes spans with their resources and scopes listed once up front and referenced by index,
    /// as an OTLP request shares them.
    /// </summary>
    public static void WriteSpans(IBufferWriter<byte> writer, IReadOnlyList<Span> spans)
    {
        var resources = new Dictionary<Resource, int>(ReferenceEqualityComparer.Instance);
        var scopes = new Dictionary<InstrumentationScope, int>(ReferenceEqualityComparer.Instance);
        foreach (var span in spans)
        {
            resources.TryAdd(span.Resource, resources.Count);
            scopes.TryAdd(span.Scope, scopes.Count);
        }

        WriteVarint(writer, (ulong)resources.Count);
        foreach (var resource in resources.Keys)
        {
            WriteResource(writer, resource);
        }

        WriteVarint(writer, (ulong)scopes.Count);
        foreach (var scope in scopes.Keys)
        {
            WriteScope(writer, scope);
        }

        WriteVarint(writer, (ulong)spans.Count);
        foreach (var span in spans)
        {
            WriteFixed64(writer, span.TraceId.High);
            WriteFixed64(writer, span.TraceId.Low);
            WriteFixed64(writer, span.SpanId.Value);
            WriteFixed64(writer, span.ParentSpanId.Value);
            WriteString(writer, span.TraceState);
            WriteVarint(writer, span.Flags);
            WriteString(writer, span.Name);
            WriteVarint(writer, (ulong)span.Kind);
            WriteSigned(writer, span.StartTimeUnixNano);
            WriteSigned(writer, span.EndTimeUnixNano - span.StartTimeUnixNano);
            WriteAttributes(writer, span.Attributes);
            WriteVarint(writer, span.DroppedAttributesCount);
            WriteEvents(writer, span.Events);
            WriteVarint(writer, span.DroppedEventsCount);
            WriteLinks(writer, span.Links);
            WriteVarint(writer, span.DroppedLinksCount);
            WriteVarint(writer, (ulong)span.StatusCode);
            WriteString(writer, span.StatusMessage);
            WriteVarint(writer, (ulong)resources[span.Resource]);
            WriteVarint(writer, (ulong)scopes[span.Scope]);
        }
    }

    public static void WriteResource(IBufferWriter<byte> writer, Resource resource)
    {
        WriteString(writer, resource.ServiceName);
        WriteAttributes(writer, resource.Attributes);
        WriteVarint(writer, resource.DroppedAttributesCount);
    }

    public static void WriteScope(IBufferWriter<byte> writer, InstrumentationScope scope)
    {
        WriteString(writer, scope.Name);
        WriteString(writer, scope.Version);
        WriteAttributes(writer, scope.Attributes);
    }

    public static byte[] EncodeAttributes(KeyValue[] attributes)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        WriteAttributes(buffer, attributes);
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>Reads what <see cref="SpanCodec"/> writes; throws <see cref="InvalidDataException"/> on malformed input.</summary>
public ref struct SpanCodecReader(ReadOnlySpan<byte> data, StringTable? strings = null)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly bool End => _position >= _data.Length;

    /// <summary>Bytes read so far.</summary>
    public readonly int Position => _position;

    public ulong ReadVarint()
    {
        ulong result = 0;
        var shift = 0;
        while (true)
        {
            if (_position >= _data.Length || shift > 63)
            {
                throw new InvalidDataException("Truncated or malformed varint.");
            }

            var b = _data[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }

            shift += 7;
        }
    }

    public long ReadSigned()
    {
        var raw = ReadVarint();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    public int ReadCount()
    {
        var count = ReadVarint();
        if (count > (ulong)(_data.Length - _position))
        {
            throw new InvalidDataException("Length prefix runs past the end of the data.");
        }

        return (int)count;
    }

    public ulong ReadFixed64()
    {
        if (_position + 8 > _data.Length)
        {
            throw new InvalidDataException("Truncated fixed64.");
        }

        var value = BinaryPrimitives.ReadUInt64BigEndian(_data[_position..]);
        _position += 8;
        return value;
    }

    public ReadOnlySpan<byte> ReadBytesSpan()
    {
        var length = ReadCount();
        var bytes = _data.Slice(_position, length);
        _position += length;
        return bytes;
    }

    public string ReadString()
    {
        var bytes = ReadBytesSpan();
        if (bytes.Length == 0)
        {
            return string.Empty;
        }

        return strings is null ? System.Text.Encoding.UTF8.GetString(bytes) : strings.Get(bytes);
    }

    public KeyValue[] ReadAttributes()
    {
        var count = ReadCount();
        if (count == 0)
        {
            return [];
        }

        var result = new KeyValue[count];
        for (var i = 0; i < count; i++)
        {
            var key = ReadString();
            result[i] = new KeyValue(key, ReadValue());
        }

        return result;
    }

    public AnyValue ReadValue()
    {
        if (_position >= _data.Length)
        {
            throw new InvalidDataException("Truncated value.");
        }

        var type = (AnyValueType)_data[_position++];
        switch (type)
        {
            case AnyValueType.Empty:
                return AnyValue.Empty;
            case AnyValueType.String:
                return AnyValue.FromString(ReadString());
            case AnyValueType.Bool:
                return AnyValue.FromBool(ReadVarint() != 0);
            case AnyValueType.Int:
                return AnyValue.FromInt(ReadSigned());
            case AnyValueType.Double:
                return AnyValue.FromDouble(BitConverter.Int64BitsToDouble((long)ReadFixed64()));
            case AnyValueType.Bytes:
                return AnyValue.FromBytes(ReadBytesSpan().ToArray());
            case AnyValueType.Array:
                var count = ReadCount();
                var items = new AnyValue[count];
                for (var i = 0; i < count; i++)
                {
                    items[i] = ReadValue();
                }

                return AnyValue.FromArray(items);
            case AnyValueType.KeyValueList:
                return AnyValue.FromKeyValueList(ReadAttributes());
            default:
                throw new InvalidDataException($"Unknown attribute value type {(byte)type}.");
        }
    }

    public SpanEvent[] ReadEvents()
    {
        var count = ReadCount();
        if (count == 0)
        {
            return [];
        }

        var result = new SpanEvent[count];
        for (var i = 0; i < count; i++)
        {
            var time = ReadSigned();
            var name = ReadString();
            var attributes = ReadAttributes();
            result[i] = new SpanEvent(time, name, attributes, (uint)ReadVarint());
        }

        return result;
    }

    public SpanLink[] ReadLinks()
    {
        var count = ReadCount();
        if (count == 0)
        {
            return [];
        }

        var result = new SpanLink[count];
        for (var i = 0; i < count; i++)
        {
            var traceId = new TraceId(ReadFixed64(), ReadFixed64());
            var spanId = new SpanId(ReadFixed64());
            var traceState = ReadString();
            var attributes = ReadAttributes();
            result[i] = new SpanLink(traceId, spanId, traceState, attributes, (uint)ReadVarint());
        }

        return result;
    }

    public Resource ReadResource()
    {
        var service = ReadString();
        var attributes = ReadAttributes();
        return new Resource { ServiceName = service, Attributes = attributes, DroppedAttributesCount = (uint)ReadVarint() };
    }

    public InstrumentationScope ReadScope()
    {
        var name = ReadString();
        var version = ReadString();
        var attributes = ReadAttributes();
        return name.Length == 0 && version.Length == 0 && attributes.Length == 0
            ? InstrumentationScope.Empty
            : new InstrumentationScope { Name = name, Version = version, Attributes = attributes };
    }

    public List<Span> ReadSpans()
    {
        var resources = new Resource[ReadCount()];
        for (var i = 0; i < resources.Length; i++)
        {
            resources[i] = ReadResource();
        }

        var scopes = new InstrumentationScope[ReadCount()];
        for (var i = 0; i < scopes.Length; i++)
        {
            scopes[i] = ReadScope();
        }

        var count = ReadCount();
        var spans = new List<Span>(count);
        for (var i = 0; i < count; i++)
        {
            var traceId = new TraceId(ReadFixed64(), ReadFixed64());
            var spanId = new SpanId(ReadFixed64());
            var parent = new SpanId(ReadFixed64());
            var traceState = ReadString();
            var flags = (uint)ReadVarint();
            var name = ReadString();
            var kind = (SpanKind)ReadVarint();
            var start = ReadSigned();
            var duration = ReadSigned();
            var attributes = ReadAttributes();
            var droppedAttributes = (uint)ReadVarint();
            var events = ReadEvents();
            var droppedEvents = (uint)ReadVarint();
            var links = ReadLinks();
            var droppedLinks = (uint)ReadVarint();
            var status = (StatusCode)ReadVarint();
            var statusMessage = ReadString();
            var resource = ReadIndex(resources);
            var scope = ReadIndex(scopes);
            spans.Add(new Span
            {
                TraceId = traceId,
                SpanId = spanId,
                ParentSpanId = parent,
                TraceState = traceState,
                Flags = flags,
                Name = name,
                Kind = kind,
                StartTimeUnixNano = start,
                EndTimeUnixNano = start + duration,
                Attributes = attributes,
                DroppedAttributesCount = droppedAttributes,
                Events = events,
                DroppedEventsCount = droppedEvents,
                Links = links,
                DroppedLinksCount = droppedLinks,
                StatusCode = status,
                StatusMessage = statusMessage,
                Resource = resource,
                Scope = scope,
            });
        }

        return spans;
    }

    private T ReadIndex<T>(T[] table)
    {
        var index = ReadVarint();
        if (index >= (ulong)table.Length)
        {
            throw new InvalidDataException($"Reference {index} past a table of {table.Length}.");
        }

        return table[index];
    }
}

/// <summary>
/// Interns decoded strings: attribute keys and common values repeat across spans, so a block read keeps one copy.
/// Not thread-safe; one table per read.
/// </summary>
public sealed class StringTable
{
    private const int MaxInternedLength = 64;
    private readonly Dictionary<int, List<string>> _byHash = [];

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxInternedLength)
        {
            return System.Text.Encoding.UTF8.GetString(utf8);
        }

        var hash = (int)System.IO.Hashing.XxHash32.HashToUInt32(utf8);
        if (_byHash.TryGetValue(hash, out var candidates))
        {
            foreach (var candidate in candidates)
            {
                if (Utf8Equals(candidate, utf8))
                {
                    return candidate;
                }
            }
        }
        else
        {
            candidates = new List<string>(1);
            _byHash.Add(hash, candidates);
        }

        var value = System.Text.Encoding.UTF8.GetString(utf8);
        candidates.Add(value);
        return value;
    }

    private static bool Utf8Equals(string candidate, ReadOnlySpan<byte> utf8)
    {
        Span<byte> buffer = stackalloc byte[MaxInternedLength * 3];
        return System.Text.Encoding.UTF8.TryGetBytes(candidate, buffer, out var written) && buffer[..written].SequenceEqual(utf8);
    }
}
