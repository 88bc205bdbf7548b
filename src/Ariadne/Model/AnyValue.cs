using System.Globalization;

namespace Ariadne.Model;

public enum AnyValueType : byte
{
    Empty = 0,
    String,
    Bool,
    Int,
    Double,
    Bytes,
    Array,
    KeyValueList,
}

/// <summary>
/// OTLP's AnyValue as a 16-byte struct: scalars live in <see cref="_bits"/>, everything else in <see cref="_ref"/>,
/// so an attribute costs no allocation beyond its string.
/// </summary>
public readonly struct AnyValue : IEquatable<AnyValue>
{
    private readonly object? _ref;
    private readonly long _bits;

    private AnyValue(AnyValueType type, long bits, object? reference)
    {
        Type = type;
        _bits = bits;
        _ref = reference;
    }

    public AnyValueType Type { get; }

    public static AnyValue Empty => default;

    public static AnyValue FromString(string value) => new(AnyValueType.String, 0, value);

    public static AnyValue FromBool(bool value) => new(AnyValueType.Bool, value ? 1 : 0, null);

    public static AnyValue FromInt(long value) => new(AnyValueType.Int, value, null);

    public static AnyValue FromDouble(double value) => new(AnyValueType.Double, BitConverter.DoubleToInt64Bits(value), null);

    public static AnyValue FromBytes(byte[] value) => new(AnyValueType.Bytes, 0, value);

    public static AnyValue FromArray(AnyValue[] values) => new(AnyValueType.Array, 0, values);

    public static AnyValue FromKeyValueList(KeyValue[] values) => new(AnyValueType.KeyValueList, 0, values);

    public string AsString => (string?)_ref ?? string.Empty;

    public bool AsBool => _bits != 0;

    public long AsInt => _bits;

    public double AsDouble => BitConverter.Int64BitsToDouble(_bits);

    public byte[] AsBytes => (byte[]?)_ref ?? [];

    public AnyValue[] AsArray => (AnyValue[]?)_ref ?? [];

    public KeyValue[] AsKeyValueList => (KeyValue[]?)_ref ?? [];

    /// <summary>
    /// The value as text, the way Jaeger renders tags and matches tag filters: numbers invariant, bools lower-case,
    /// bytes base64, arrays and maps as JSON.
    /// </summary>
    public override string ToString() => Type switch
    {
        AnyValueType.String => AsString,
        AnyValueType.Bool => AsBool ? "true" : "false",
        AnyValueType.Int => AsInt.ToString(CultureInfo.InvariantCulture),
        AnyValueType.Double => AsDouble.ToString("R", CultureInfo.InvariantCulture),
        AnyValueType.Bytes => Convert.ToBase64String(AsBytes),
        AnyValueType.Array or AnyValueType.KeyValueList => AnyValueJson.Serialize(this),
        _ => string.Empty,
    };

    /// <summary>
    /// The same value by construction (same type, bits and referenced instance): a check of a few instructions that
    /// callers use to skip work they already did for an equal value. False says nothing: equal texts in two instances.
    /// </summary>
    public bool IsSameInstance(AnyValue other) => Type == other.Type && _bits == other._bits && ReferenceEquals(_ref, other._ref);

    public bool Equals(AnyValue other)
    {
        if (Type != other.Type)
        {
            return false;
        }

        return Type switch
        {
            AnyValueType.String => string.Equals(AsString, other.AsString, StringComparison.Ordinal),
            AnyValueType.Bytes => AsBytes.AsSpan().SequenceEqual(other.AsBytes),
            AnyValueType.Array => AsArray.AsSpan().SequenceEqual(other.AsArray),
            AnyValueType.KeyValueList => AsKeyValueList.AsSpan().SequenceEqual(other.AsKeyValueList),
            _ => _bits == other._bits,
        };
    }

    public override bool Equals(object? obj) => obj is AnyValue other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Type, _bits, Type == AnyValueType.String ? AsString : null);

    public static bool operator ==(AnyValue left, AnyValue right) => left.Equals(right);

    public static bool operator !=(AnyValue left, AnyValue right) => !left.Equals(right);
}

/// <summary>An attribute: OTLP's KeyValue.</summary>
public readonly record struct KeyValue(string Key, AnyValue Value)
{
    public static KeyValue String(string key, string value) => new(key, AnyValue.FromString(value));

    public static KeyValue Int(string key, long value) => new(key, AnyValue.FromInt(value));

    public static KeyValue Bool(string key, bool value) => new(key, AnyValue.FromBool(value));

    public static KeyValue Double(string key, double value) => new(key, AnyValue.FromDouble(value));
}
