using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Ariadne.Receivers.Otlp.Protobuf;

/// <summary>Protobuf wire types (the low three bits of a tag).</summary>
internal static class WireType
{
    public const uint Varint = 0;
    public const uint Fixed64 = 1;
    public const uint Len = 2;
    public const uint StartGroup = 3;
    public const uint EndGroup = 4;
    public const uint Fixed32 = 5;
}

/// <summary>
/// Reads protobuf wire format from one message's bytes. Nested messages are read by a new reader over the slice
/// <see cref="ReadLengthDelimited"/> returns, so nothing is allocated and a message cannot read past its end.
/// Every read checks bounds and throws <see cref="OtlpMalformedException"/> on truncated or invalid input.
/// </summary>
internal ref struct ProtobufReader(ReadOnlySpan<byte> buffer)
{
    private const int MaxGroupDepth = 100;

    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _position;

    /// <summary>Reads the next tag (field number and wire type); false at the end of the message.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadTag(out uint tag)
    {
        if (_position >= _buffer.Length)
        {
            tag = 0;
            return false;
        }

        uint first = _buffer[_position];
        if (first < 0x80 && first >= 8)
        {
            _position++;
            tag = first;
            return true;
        }

        tag = ReadTagSlow();
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadVarint()
    {
        if (_position < _buffer.Length)
        {
            ulong first = _buffer[_position];
            if (first < 0x80)
            {
                _position++;
                return first;
            }
        }

        return ReadVarintSlow();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ReadFixed32()
    {
        if (_buffer.Length - _position < sizeof(uint))
        {
            OtlpMalformedException.Throw("A fixed32 field is cut off by the end of its message.");
        }

        var value = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.Slice(_position, sizeof(uint)));
        _position += sizeof(uint);
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadFixed64()
    {
        if (_buffer.Length - _position < sizeof(ulong))
        {
            OtlpMalformedException.Throw("A fixed64 field is cut off by the end of its message.");
        }

        var value = BinaryPrimitives.ReadUInt64LittleEndian(_buffer.Slice(_position, sizeof(ulong)));
        _position += sizeof(ulong);
        return value;
    }

    /// <summary>The bytes of a length-delimited field (string, bytes, nested message, packed repeated scalars).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var length = ReadVarint();
        if (length > (ulong)(_buffer.Length - _position))
        {
            OtlpMalformedException.Throw("A length-delimited field is longer than the rest of its message.");
        }

        var value = _buffer.Slice(_position, (int)length);
        _position += (int)length;
        return value;
    }

    /// <summary>Skips a field this decoder does not read, by its wire type, as protobuf requires for unknown fields.</summary>
    public void SkipField(uint tag)
    {
        switch (tag & 7)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                Skip(sizeof(ulong));
                break;
            case WireType.Len:
                ReadLengthDelimited();
                break;
            case WireType.Fixed32:
                Skip(sizeof(uint));
                break;
            case WireType.StartGroup:
                SkipGroup(tag >> 3, depth: 1);
                break;
            case WireType.EndGroup:
                OtlpMalformedException.Throw("An end-group tag has no matching start-group tag.");
                break;
            default:
                OtlpMalformedException.Throw($"Field {tag >> 3} has the invalid wire type {tag & 7}.");
                break;
        }
    }

    private void Skip(int count)
    {
        if (_buffer.Length - _position < count)
        {
            OtlpMalformedException.Throw("A fixed-size field is cut off by the end of its message.");
        }

        _position += count;
    }

    // Groups are deprecated and absent from OTLP, but a parser must still skip one it does not know.
    private void SkipGroup(uint fieldNumber, int depth)
    {
        if (depth > MaxGroupDepth)
        {
            OtlpMalformedException.Throw("Groups are nested too deeply.");
        }

        while (TryReadTag(out var tag))
        {
            if ((tag & 7) == WireType.EndGroup)
            {
                if (tag >> 3 != fieldNumber)
                {
                    OtlpMalformedException.Throw($"Group {fieldNumber} is closed by the end-group tag of field {tag >> 3}.");
                }

                return;
            }

            if ((tag & 7) == WireType.StartGroup)
            {
                SkipGroup(tag >> 3, depth + 1);
            }
            else
            {
                SkipField(tag);
            }
        }

        OtlpMalformedException.Throw($"Group {fieldNumber} has no end-group tag.");
    }

    // A tag is a 32-bit varint; like Google.Protobuf, bits beyond 32 in an over-long encoding are ignored.
    private uint ReadTagSlow()
    {
        var tag = (uint)ReadVarint();
        if (tag >> 3 == 0)
        {
            OtlpMalformedException.Throw("A field has the invalid field number 0.");
        }

        return tag;
    }

    private ulong ReadVarintSlow()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _buffer.Length)
            {
                OtlpMalformedException.Throw("A varint is cut off by the end of its message.");
            }

            ulong b = _buffer[_position++];
            result |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        OtlpMalformedException.Throw("A varint is longer than 10 bytes.");
        return 0;
    }
}
