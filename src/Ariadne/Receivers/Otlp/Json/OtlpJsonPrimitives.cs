using System.Buffers.Text;
using System.Text.Json;

namespace Ariadne.Receivers.Otlp.Json;

/// <summary>
/// The proto3 JSON mapping's primitives over <see cref="Utf8JsonReader"/>, shared by every OTLP/JSON decoder: moving
/// through objects and arrays (null as unset), field names in both spellings, hex ids, 64-bit integers as numbers or
/// decimal strings, doubles with "NaN" and the infinities, base64 bytes and enums by number or name. Anything that
/// is not what the mapping allows throws <see cref="OtlpMalformedException"/> with a message naming the field.
/// </summary>
internal static class OtlpJsonPrimitives
{
    /// <summary>Nothing but whitespace may follow the request object (the reader throws on anything else).</summary>
    internal static void ExpectEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            OtlpMalformedException.Throw("The body has more JSON after the request object.");
        }
    }

    internal static string ReadString(ref Utf8JsonReader reader, string field)
    {
        if (NextIsNull(ref reader))
        {
            return string.Empty;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            OtlpMalformedException.Throw($"{field} must be a JSON string.");
        }

        return Unescape(ref reader);
    }

    internal static string Unescape(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new OtlpMalformedException("A JSON string is not valid UTF-8.", e);
        }
    }

    /// <summary>Moves to the value of the current property; true when it is null (proto3 JSON: the field is unset).</summary>
    internal static bool NextIsNull(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Null;
    }

    /// <summary>
    /// Moves to the next token; true when it is a property name. An escaped name is unescaped once here, so that a
    /// lone surrogate in it is malformed: ValueTextEquals would throw InvalidOperationException on it (a 500).
    /// </summary>
    internal static bool NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.PropertyName)
        {
            return false;
        }

        if (reader.ValueIsEscaped)
        {
            Unescape(ref reader);
        }

        return true;
    }

    internal static bool NextItem(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType != JsonTokenType.EndArray;
    }

    internal static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> name) => reader.ValueTextEquals(name);

    internal static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> camelCase, ReadOnlySpan<byte> snakeCase) =>
        reader.ValueTextEquals(camelCase) || reader.ValueTextEquals(snakeCase);

    internal static bool Is(ref Utf8JsonReader reader, OtlpJsonFieldName field) => Is(ref reader, field.CamelCase, field.SnakeCase);

    internal static bool EnterArray(ref Utf8JsonReader reader, string field)
    {
        if (NextIsNull(ref reader))
        {
            return false;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            OtlpMalformedException.Throw($"{field} must be a JSON array.");
        }

        return true;
    }

    internal static bool EnterObject(ref Utf8JsonReader reader, string field)
    {
        if (NextIsNull(ref reader))
        {
            return false;
        }

        ExpectObject(ref reader, field);
        return true;
    }

    internal static void ExpectObject(ref Utf8JsonReader reader, string field)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            OtlpMalformedException.Throw($"{field} must be a JSON object.");
        }
    }

    /// <summary>
    /// Decodes a hex id into <paramref name="destination"/>; returns its length in bytes, or -1 when it is not hex
    /// or does not fit, which the span validation then rejects like any other wrong length.
    /// </summary>
    internal static int ReadHexId(ref Utf8JsonReader reader, scoped Span<byte> destination)
    {
        if (NextIsNull(ref reader))
        {
            return 0;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            OtlpMalformedException.Throw("Trace and span ids must be JSON strings of hex digits.");
        }

        var hex = reader.ValueSpan;
        if (reader.ValueIsEscaped || hex.Length % 2 != 0 || hex.Length / 2 > destination.Length)
        {
            return -1;
        }

        for (var i = 0; i < hex.Length / 2; i++)
        {
            var high = HexDigit(hex[2 * i]);
            var low = HexDigit(hex[(2 * i) + 1]);
            if ((high | low) < 0)
            {
                return -1;
            }

            destination[i] = (byte)((high << 4) | low);
        }

        return hex.Length / 2;
    }

    /// <summary>
    /// The id <see cref="ReadHexId"/> read into <paramref name="buffer"/>, which has a byte more than the id; when
    /// it was not hex or did not fit, the whole buffer: a length no id has, which the validation rejects like any
    /// other wrong length.
    /// </summary>
    internal static ReadOnlySpan<byte> HexId(ReadOnlySpan<byte> buffer, int length) => length < 0 ? buffer : buffer[..length];

    internal static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    internal static ulong ReadUInt64(ref Utf8JsonReader reader, string field)
    {
        if (NextIsNull(ref reader))
        {
            return 0;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out var number))
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.String && TryParseWhole(reader.ValueSpan, out ulong text))
        {
            return text;
        }

        OtlpMalformedException.Throw($"{field} must be an unsigned integer, as a JSON number or a decimal string.");
        return 0;
    }

    internal static uint ReadUInt32(ref Utf8JsonReader reader, string field)
    {
        var value = ReadUInt64(ref reader, field);
        if (value > uint.MaxValue)
        {
            OtlpMalformedException.Throw($"{field} must fit in 32 bits.");
        }

        return (uint)value;
    }

    internal static long ReadCurrentInt64(ref Utf8JsonReader reader, string field)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number))
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.String && TryParseWhole(reader.ValueSpan, out long text))
        {
            return text;
        }

        OtlpMalformedException.Throw($"{field} must be a 64-bit integer, as a JSON number or a decimal string.");
        return 0;
    }

    internal static double ReadCurrentDouble(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var number))
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.ValueSpan;
            if (text.SequenceEqual("NaN"u8))
            {
                return double.NaN;
            }

            if (text.SequenceEqual("Infinity"u8))
            {
                return double.PositiveInfinity;
            }

            if (text.SequenceEqual("-Infinity"u8))
            {
                return double.NegativeInfinity;
            }

            if (Utf8Parser.TryParse(text, out double parsed, out var consumed) && consumed == text.Length)
            {
                return parsed;
            }
        }

        OtlpMalformedException.Throw("doubleValue must be a JSON number, or \"NaN\", \"Infinity\" or \"-Infinity\".");
        return 0;
    }

    internal static bool ReadCurrentBool(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
        {
            OtlpMalformedException.Throw("boolValue must be true or false.");
        }

        return reader.TokenType == JsonTokenType.True;
    }

    internal static byte[] ReadCurrentBase64(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String || !reader.TryGetBytesFromBase64(out var bytes))
        {
            OtlpMalformedException.Throw("bytesValue must be a base64 JSON string.");
            return [];
        }

        return bytes;
    }

    /// <summary>An enum as its number (what OTLP/JSON requires) or, leniently, its proto name.</summary>
    internal static ulong ReadEnum(ref Utf8JsonReader reader, string field, string[] names)
    {
        if (NextIsNull(ref reader))
        {
            return 0;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number))
        {
            return number < 0 ? ulong.MaxValue : (ulong)number;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            // An escaped name is unescaped once, which makes a lone surrogate malformed: ValueTextEquals would throw
            // InvalidOperationException on it (a 500; found by the fuzzer in severityNumber).
            var escaped = reader.ValueIsEscaped ? Unescape(ref reader) : null;
            for (var i = 0; i < names.Length; i++)
            {
                if (escaped is null ? reader.ValueTextEquals(names[i]) : escaped == names[i])
                {
                    return (ulong)i;
                }
            }

            // An unknown name maps like an unknown number.
            return ulong.MaxValue;
        }

        OtlpMalformedException.Throw($"{field} must be an enum number.");
        return 0;
    }

    internal static bool TryParseWhole(ReadOnlySpan<byte> text, out ulong value) =>
        Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length && text.Length > 0;

    internal static bool TryParseWhole(ReadOnlySpan<byte> text, out long value) =>
        Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length && text.Length > 0;
}
