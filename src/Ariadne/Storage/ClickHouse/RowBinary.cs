using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Ariadne.Model;

namespace Ariadne.Storage.ClickHouse;

/// <summary>
/// ClickHouse's RowBinary format, which 18.16 and current releases read and write the same way: little-endian
/// integers, strings and arrays prefixed by an unsigned LEB128 length, FixedString(N) as N raw bytes.
/// </summary>
public sealed class RowBinaryWriter(int initialCapacity = 1 << 20)
{
    private readonly ArrayBufferWriter<byte> _buffer = new(initialCapacity);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    public int WrittenCount => _buffer.WrittenCount;

    public void Reset() => _buffer.ResetWrittenCount();

    public void UInt8(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void UInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void UInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void VarUInt(ulong value)
    {
        var span = _buffer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        _buffer.Advance(i);
    }

    public void String(string value)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max < 128)
        {
            // One length byte suffices; encode straight after it and patch the length in.
            var span = _buffer.GetSpan(max + 1);
            var written = Encoding.UTF8.GetBytes(value, span[1..]);
            span[0] = (byte)written;
            _buffer.Advance(written + 1);
            return;
        }

        var count = Encoding.UTF8.GetByteCount(value);
        VarUInt((ulong)count);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(count));
        _buffer.Advance(count);
    }

    /// <summary>Binary data in a String column (ClickHouse strings are bytes).</summary>
    public void Bytes(ReadOnlySpan<byte> value)
    {
        VarUInt((ulong)value.Length);
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
    }

    /// <summary>A trace id as FixedString(16), in its big-endian wire order so ids sort and print as hex does.</summary>
    public void TraceId(TraceId id)
    {
        id.WriteBytes(_buffer.GetSpan(16));
        _buffer.Advance(16);
    }

    public void ArrayLength(int count) => VarUInt((ulong)count);
}

/// <summary>Reads a RowBinary answer; one instance walks the whole body.</summary>
public ref struct RowBinaryReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly bool End => _position >= _data.Length;

    public byte UInt8() => _data[_position++];

    public uint UInt32()
    {
        var value = BinaryPrimitives.ReadUInt32LittleEndian(_data[_position..]);
        _position += 4;
        return value;
    }

    public ulong UInt64()
    {
        var value = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
        _position += 8;
        return value;
    }

    public ulong VarUInt()
    {
        ulong value = 0;
        var shift = 0;
        byte b;
        do
        {
            b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            shift += 7;
        }
        while ((b & 0x80) != 0);
        return value;
    }

    public int ArrayLength() => checked((int)VarUInt());

    public string String()
    {
        var length = checked((int)VarUInt());
        var value = length == 0 ? string.Empty : Encoding.UTF8.GetString(_data.Slice(_position, length));
        _position += length;
        return value;
    }

    /// <summary>A String column's bytes, valid while the data is.</summary>
    public ReadOnlySpan<byte> Bytes()
    {
        var length = checked((int)VarUInt());
        var value = _data.Slice(_position, length);
        _position += length;
        return value;
    }

    public TraceId TraceId()
    {
        var id = Model.TraceId.FromBytes(_data.Slice(_position, 16));
        _position += 16;
        return id;
    }
}
