using System.Buffers.Binary;
using System.Globalization;

namespace Ariadne.Model;

/// <summary>A 64-bit span id, big-endian as on the wire.</summary>
public readonly record struct SpanId(ulong Value)
{
    public const int ByteLength = 8;

    public bool IsEmpty => Value == 0;

    public static SpanId FromBytes(ReadOnlySpan<byte> bytes) => new(BinaryPrimitives.ReadUInt64BigEndian(bytes));

    public void WriteBytes(Span<byte> destination) => BinaryPrimitives.WriteUInt64BigEndian(destination, Value);

    public byte[] ToBytes()
    {
        var bytes = new byte[ByteLength];
        WriteBytes(bytes);
        return bytes;
    }

    public string ToHex() => Value.ToString("x16", CultureInfo.InvariantCulture);

    public override string ToString() => ToHex();

    public static bool TryParseHex(ReadOnlySpan<char> hex, out SpanId id)
    {
        id = default;
        if (hex.Length is 0 or > 16
            || !ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        id = new SpanId(value);
        return true;
    }
}
