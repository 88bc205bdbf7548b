using System.Buffers.Binary;
using System.Text;

namespace Ariadne.Model;

/// <summary>
/// Just enough protobuf writing for the load generator to pre-encode OTLP requests and for Tempo's trace API to answer
/// in OTLP protobuf, so the server itself carries no generated protobuf types. Nested messages reserve four bytes for their length and fill in a padded varint
/// when they end (as OpenTelemetry .NET's hand-written serializer does), so nothing is encoded twice.
/// Positions are exposed so callers can note where ids and timestamps sit and patch them later.
/// </summary>
internal sealed class ProtobufWriter(int initialCapacity = 64 * 1024)
{
    public const int WireVarint = 0;
    public const int WireFixed64 = 1;
    public const int WireLengthDelimited = 2;
    public const int WireFixed32 = 5;

    private const int ReservedLengthBytes = 4;

    private byte[] _buffer = new byte[initialCapacity];

    public int Position { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Position);

    public void Reset() => Position = 0;

    public void WriteTag(int field, int wireType) => WriteVarint(((uint)field << 3) | (uint)wireType);

    public void WriteVarint(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _buffer[Position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[Position++] = (byte)value;
    }

    public void WriteVarintField(int field, ulong value)
    {
        WriteTag(field, WireVarint);
        WriteVarint(value);
    }

    /// <summary>Writes a fixed64 field and returns the offset of its eight little-endian bytes.</summary>
    public int WriteFixed64Field(int field, ulong value)
    {
        WriteTag(field, WireFixed64);
        Ensure(8);
        var offset = Position;
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(Position), value);
        Position += 8;
        return offset;
    }

    public void WriteFixed32Field(int field, uint value)
    {
        WriteTag(field, WireFixed32);
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(Position), value);
        Position += 4;
    }

    public void WriteDoubleField(int field, double value) => WriteFixed64Field(field, BitConverter.DoubleToUInt64Bits(value));

    /// <summary>Writes a bytes field and returns the offset of its content.</summary>
    public int WriteBytesField(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)value.Length);
        Ensure(value.Length);
        var offset = Position;
        value.CopyTo(_buffer.AsSpan(Position));
        Position += value.Length;
        return offset;
    }

    public void WriteStringField(int field, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)length);
        Ensure(length);
        Position += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(Position));
    }

    /// <summary>Starts a nested message; pass the result to <see cref="EndMessage"/> once its fields are written.</summary>
    public int BeginMessage(int field)
    {
        WriteTag(field, WireLengthDelimited);
        Ensure(ReservedLengthBytes);
        Position += ReservedLengthBytes;
        return Position;
    }

    public void EndMessage(int contentStart)
    {
        var length = Position - contentStart;
        if (length >= 1 << 28)
        {
            throw new InvalidOperationException("A nested message of 256 MiB or more does not fit a four-byte length; send fewer spans per request.");
        }

        // A varint padded to four bytes: continuation bits on the first three, whatever the value.
        var at = _buffer.AsSpan(contentStart - ReservedLengthBytes, ReservedLengthBytes);
        at[0] = (byte)((length & 0x7F) | 0x80);
        at[1] = (byte)(((length >> 7) & 0x7F) | 0x80);
        at[2] = (byte)(((length >> 14) & 0x7F) | 0x80);
        at[3] = (byte)((length >> 21) & 0x7F);
    }

    public byte[] ToArray() => Written.ToArray();

    private void Ensure(int bytes)
    {
        if (Position + bytes > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Position + bytes));
        }
    }
}
