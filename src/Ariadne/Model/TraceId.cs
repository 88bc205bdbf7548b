using System.Buffers.Binary;
using System.Globalization;

namespace Ariadne.Model;

/// <summary>A 128-bit trace id, big-endian as on the wire (W3C, OTLP, Jaeger).</summary>
public readonly record struct TraceId(ulong High, ulong Low) : IComparable<TraceId>
{
    public const int ByteLength = 16;

    public bool IsEmpty => High == 0 && Low == 0;

    public static TraceId FromBytes(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));

    public void WriteBytes(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Low);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[ByteLength];
        WriteBytes(bytes);
        return bytes;
    }

    /// <summary>32 lowercase hex digits, as OTLP/JSON and W3C write it.</summary>
    public string ToHex() => string.Create(32, this, static (chars, id) =>
    {
        id.High.TryFormat(chars, out _, "x16", CultureInfo.InvariantCulture);
        id.Low.TryFormat(chars[16..], out _, "x16", CultureInfo.InvariantCulture);
    });

    public override string ToString() => ToHex();

    /// <summary>
    /// Parses 1 to 32 hex digits; shorter ids are left-padded with zeros, as Jaeger accepts 64-bit ids.
    /// </summary>
    public static bool TryParseHex(ReadOnlySpan<char> hex, out TraceId id)
    {
        id = default;
        if (hex.Length is 0 or > 32)
        {
            return false;
        }

        ulong high = 0;
        var lowDigits = hex;
        if (hex.Length > 16)
        {
            if (!ulong.TryParse(hex[..^16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out high))
            {
                return false;
            }

            lowDigits = hex[^16..];
        }

        if (!ulong.TryParse(lowDigits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low))
        {
            return false;
        }

        id = new TraceId(high, low);
        return true;
    }

    public int CompareTo(TraceId other)
    {
        var c = High.CompareTo(other.High);
        return c != 0 ? c : Low.CompareTo(other.Low);
    }
}
