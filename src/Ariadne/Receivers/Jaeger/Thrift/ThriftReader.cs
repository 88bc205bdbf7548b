using System.Buffers.Binary;
using System.Text;

namespace Ariadne.Receivers.Jaeger.Thrift;

/// <summary>Thrift value types, numbered as the binary protocol numbers them (the compact protocol's are mapped).</summary>
internal enum ThriftType : byte
{
    Stop = 0,
    Bool = 2,
    Byte = 3,
    Double = 4,
    I16 = 6,
    I32 = 8,
    I64 = 10,
    String = 11,
    Struct = 12,
    Map = 13,
    Set = 14,
    List = 15,
}

/// <summary>
/// Reads Thrift's binary or compact protocol from one payload (a UDP datagram or an HTTP body). Every length and
/// element count is checked against the bytes left before anything is sliced or sized from it, so a datagram that
/// declares a 2 GiB string or a billion list elements is refused at once, not allocated for. Every problem throws
/// <see cref="JaegerFormatException"/> saying where.
/// </summary>
/// <remarks>
/// The compact protocol writes a field id as a delta from the previous field of the same struct, so the caller keeps
/// that id (<c>lastFieldId</c>), one per struct level. It also folds a bool field's value into the field header; the
/// reader keeps it for the <see cref="ReadBool"/> that follows.
/// </remarks>
internal ref struct ThriftReader(ReadOnlySpan<byte> buffer, bool compact)
{
    // Jaeger's structs nest four deep (Batch > Span > Log > Tag); skipping an unknown field allows far more.
    private const int MaxSkipDepth = 32;

    private const uint StrictVersionMask = 0xffff0000;
    private const uint StrictVersion1 = 0x80010000;
    private const byte CompactProtocolId = 0x82;
    private const byte CompactVersion = 1;

    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private readonly bool _compact = compact;
    private int _position;
    private bool? _pendingBool;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool Compact => _compact;

    /// <summary>A message envelope: the method name, the message type (1 call, 4 oneway) and the sequence id.</summary>
    public (string Name, byte Type) ReadMessageBegin()
    {
        if (_compact)
        {
            var protocolId = ReadByteRaw();
            if (protocolId != CompactProtocolId)
            {
                JaegerFormatException.Throw($"the datagram does not start with the Thrift compact protocol id 0x82 (it starts with 0x{protocolId:x2}); send compact Thrift to this port, binary Thrift to the binary one");
            }

            var versionAndType = ReadByteRaw();
            if ((versionAndType & 0x1f) != CompactVersion)
            {
                JaegerFormatException.Throw($"Thrift compact protocol version {versionAndType & 0x1f} is not supported; only version 1 is");
            }

            ReadVarint32();
            return (ReadString(), (byte)((versionAndType >> 5) & 0x07));
        }

        var first = ReadI32();
        if (first < 0)
        {
            if (((uint)first & StrictVersionMask) != StrictVersion1)
            {
                JaegerFormatException.Throw($"the Thrift binary message header 0x{(uint)first:x8} has an unknown version; only version 1 (0x8001) is supported");
            }

            var name = ReadString();
            ReadI32();
            return (name, (byte)(first & 0xff));
        }

        // The old non-strict envelope: the name's length comes first, then the name, the type and the sequence id.
        var oldName = Encoding.UTF8.GetString(Take(first, "message name"));
        var type = ReadByteRaw();
        ReadI32();
        return (oldName, type);
    }

    /// <summary>The next field's type and id; false at the struct's end (its stop field).</summary>
    public bool ReadFieldBegin(ref short lastFieldId, out ThriftType type, out short id)
    {
        var header = ReadByteRaw();
        if (header == 0)
        {
            type = ThriftType.Stop;
            id = 0;
            return false;
        }

        if (!_compact)
        {
            type = CheckBinaryType(header);
            id = ReadI16();
            return true;
        }

        var compactType = header & 0x0f;
        type = FromCompactType(compactType);
        var delta = header >> 4;
        id = delta != 0 ? (short)(lastFieldId + delta) : ReadI16();
        lastFieldId = id;
        if (type == ThriftType.Bool)
        {
            _pendingBool = compactType == 1;
        }

        return true;
    }

    /// <summary>A list's (or set's) element type and count; the count is checked against the bytes left.</summary>
    public (ThriftType ElementType, int Count) ReadListBegin()
    {
        ThriftType elementType;
        long count;
        if (_compact)
        {
            var header = ReadByteRaw();
            elementType = FromCompactType(header & 0x0f);
            count = header >> 4;
            if (count == 15)
            {
                count = ReadVarint32();
            }
        }
        else
        {
            elementType = CheckBinaryType(ReadByteRaw());
            count = ReadI32();
        }

        // Every element takes at least one byte, so a count over the bytes left cannot be true.
        if (count < 0 || count > Remaining)
        {
            JaegerFormatException.Throw($"a list declares {count} elements but only {Remaining} bytes follow");
        }

        return (elementType, (int)count);
    }

    public bool ReadBool()
    {
        if (_pendingBool is { } value)
        {
            _pendingBool = null;
            return value;
        }

        // A bool outside a field header (a list element): compact writes 1 for true and 2 for false, binary 1 and 0.
        return ReadByteRaw() == 1;
    }

    public short ReadI16() => _compact ? (short)ZigZag(ReadVarint32()) : BinaryPrimitives.ReadInt16BigEndian(Take(2, "i16"));

    public int ReadI32() => _compact ? ZigZag(ReadVarint32()) : BinaryPrimitives.ReadInt32BigEndian(Take(4, "i32"));

    public long ReadI64()
    {
        if (!_compact)
        {
            return BinaryPrimitives.ReadInt64BigEndian(Take(8, "i64"));
        }

        var raw = ReadVarint64();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>Compact writes doubles little-endian, binary big-endian.</summary>
    public double ReadDouble() => _compact
        ? BinaryPrimitives.ReadDoubleLittleEndian(Take(8, "double"))
        : BinaryPrimitives.ReadDoubleBigEndian(Take(8, "double"));

    /// <summary>Binary or string bytes, a slice of the payload; the length is checked before slicing.</summary>
    public ReadOnlySpan<byte> ReadBinary()
    {
        var length = _compact ? ReadVarint32() : ReadI32();
        return Take(length, "string");
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadBinary());

    /// <summary>Skips a value this decoder does not read (unknown fields, or fields of the wrong type).</summary>
    public void Skip(ThriftType type) => Skip(type, 0);

    private void Skip(ThriftType type, int depth)
    {
        if (depth > MaxSkipDepth)
        {
            JaegerFormatException.Throw($"values are nested more than {MaxSkipDepth} deep");
        }

        switch (type)
        {
            case ThriftType.Bool:
                ReadBool();
                break;
            case ThriftType.Byte:
                ReadByteRaw();
                break;
            case ThriftType.I16:
                ReadI16();
                break;
            case ThriftType.I32:
                ReadI32();
                break;
            case ThriftType.I64:
                ReadI64();
                break;
            case ThriftType.Double:
                ReadDouble();
                break;
            case ThriftType.String:
                ReadBinary();
                break;
            case ThriftType.Struct:
                short last = 0;
                while (ReadFieldBegin(ref last, out var fieldType, out _))
                {
                    Skip(fieldType, depth + 1);
                }

                break;
            case ThriftType.List or ThriftType.Set:
                var (elementType, count) = ReadListBegin();
                for (var i = 0; i < count; i++)
                {
                    Skip(elementType, depth + 1);
                }

                break;
            case ThriftType.Map:
                var (keyType, valueType, entries) = ReadMapBegin();
                for (var i = 0; i < entries; i++)
                {
                    Skip(keyType, depth + 1);
                    Skip(valueType, depth + 1);
                }

                break;
            default:
                JaegerFormatException.Throw($"cannot skip a value of Thrift type {(byte)type}");
                break;
        }
    }

    private (ThriftType Key, ThriftType Value, int Count) ReadMapBegin()
    {
        long count;
        ThriftType key = ThriftType.Stop, value = ThriftType.Stop;
        if (_compact)
        {
            count = ReadVarint32();
            if (count != 0)
            {
                var types = ReadByteRaw();
                key = FromCompactType(types >> 4);
                value = FromCompactType(types & 0x0f);
            }
        }
        else
        {
            key = CheckBinaryType(ReadByteRaw());
            value = CheckBinaryType(ReadByteRaw());
            count = ReadI32();
        }

        if (count < 0 || count > Remaining)
        {
            JaegerFormatException.Throw($"a map declares {count} entries but only {Remaining} bytes follow");
        }

        return (key, value, (int)count);
    }

    private byte ReadByteRaw() => Take(1, "byte")[0];

    private ReadOnlySpan<byte> Take(long length, string what)
    {
        if (length < 0 || length > Remaining)
        {
            JaegerFormatException.Throw(length < 0
                ? $"a {what} declares the negative length {length}"
                : $"a {what} needs {length} bytes but only {Remaining} are left: the payload is cut short or not Thrift {(_compact ? "compact" : "binary")}");
        }

        var slice = _buffer.Slice(_position, (int)length);
        _position += (int)length;
        return slice;
    }

    private int ReadVarint32()
    {
        var value = ReadVarint64();
        if (value > uint.MaxValue)
        {
            JaegerFormatException.Throw("a 32-bit varint is longer than 5 bytes");
        }

        return (int)(uint)value;
    }

    private ulong ReadVarint64()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByteRaw();
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        JaegerFormatException.Throw("a varint is longer than 10 bytes");
        return 0;
    }

    private static int ZigZag(int raw) => (int)((uint)raw >> 1) ^ -(raw & 1);

    private static ThriftType CheckBinaryType(byte type)
    {
        if (type is not (2 or 3 or 4 or 6 or 8 or 10 or 11 or 12 or 13 or 14 or 15))
        {
            JaegerFormatException.Throw($"Thrift binary type {type} does not exist: the payload is not Thrift binary");
        }

        return (ThriftType)type;
    }

    private static ThriftType FromCompactType(int type) => type switch
    {
        1 or 2 => ThriftType.Bool,
        3 => ThriftType.Byte,
        4 => ThriftType.I16,
        5 => ThriftType.I32,
        6 => ThriftType.I64,
        7 => ThriftType.Double,
        8 => ThriftType.String,
        9 => ThriftType.List,
        10 => ThriftType.Set,
        11 => ThriftType.Map,
        12 => ThriftType.Struct,
        _ => throw new JaegerFormatException($"Thrift compact type {type} does not exist: the payload is not Thrift compact"),
    };
}
