using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ariadne.Receivers.Zipkin;

/// <summary>
/// Reads Zipkin v2 JSON (<c>POST /api/v2/spans</c>, an array of spans as zipkin-api's zipkin2-api.yaml defines
/// it) with <see cref="Utf8JsonReader"/>, straight from the request buffer. Unknown properties are skipped.
/// Malformed JSON or a value of the wrong type fails the whole request (<see cref="JsonException"/>,
/// <see cref="ZipkinFormatException"/>); a span with a bad id is rejected alone.
/// </summary>
internal static class ZipkinJsonDecoder
{
    private static readonly JsonReaderOptions s_options = new() { MaxDepth = 16 };

    public static void Decode(ReadOnlySpan<byte> json, ZipkinSpanMapper mapper)
    {
        // Utf8JsonReader does not skip a byte-order mark; files written by some editors and tools start with one.
        if (json.StartsWith("\uFEFF"u8))
        {
            json = json[3..];
        }

        var reader = new Utf8JsonReader(json, s_options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new ZipkinFormatException("the body must be a JSON array of Zipkin v2 spans, like [{\"traceId\":\"…\",\"id\":\"…\",…}]");
        }

        var span = new ZipkinSpan();
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new ZipkinFormatException($"span [{index}] must be a JSON object, not {Describe(reader.TokenType)}");
            }

            span.Reset();
            ReadSpan(ref reader, span, index);
            mapper.Add(span);
            index++;
        }

        // Anything after the array is malformed; the reader throws a JsonException that says where.
        reader.Read();
    }

    private static void ReadSpan(ref Utf8JsonReader reader, ZipkinSpan span, int index)
    {
        while (NextProperty(ref reader, index, "a property name"))
        {
            if (reader.ValueTextEquals("traceId"u8))
            {
                ReadToken(ref reader, index, "traceId", span, static (hex, s) => s.SetTraceId(hex));
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                ReadToken(ref reader, index, "id", span, static (hex, s) => s.SetId(hex));
            }
            else if (reader.ValueTextEquals("parentId"u8))
            {
                ReadToken(ref reader, index, "parentId", span, static (hex, s) =>
                {
                    if (hex.Length > 0)
                    {
                        s.SetParentId(hex);
                    }
                });
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                span.Name = ReadString(ref reader, index, "name") ?? string.Empty;
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                ReadToken(ref reader, index, "kind", span, static (kind, s) => s.SetKind(kind));
            }
            else if (reader.ValueTextEquals("timestamp"u8))
            {
                span.Timestamp = ReadMicros(ref reader, index, "timestamp");
            }
            else if (reader.ValueTextEquals("duration"u8))
            {
                span.Duration = ReadMicros(ref reader, index, "duration");
            }
            else if (reader.ValueTextEquals("localEndpoint"u8))
            {
                span.LocalEndpoint = ReadEndpoint(ref reader, index, "localEndpoint");
            }
            else if (reader.ValueTextEquals("remoteEndpoint"u8))
            {
                span.RemoteEndpoint = ReadEndpoint(ref reader, index, "remoteEndpoint");
            }
            else if (reader.ValueTextEquals("annotations"u8))
            {
                ReadAnnotations(ref reader, span, index);
            }
            else if (reader.ValueTextEquals("tags"u8))
            {
                ReadTags(ref reader, span, index);
            }
            else if (reader.ValueTextEquals("debug"u8))
            {
                span.Debug = ReadBool(ref reader, index, "debug");
            }
            else if (reader.ValueTextEquals("shared"u8))
            {
                span.Shared = ReadBool(ref reader, index, "shared");
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static ZipkinEndpoint ReadEndpoint(ref Utf8JsonReader reader, int index, string field)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return default;
        }

        Expect(ref reader, JsonTokenType.StartObject, index, field);
        string? serviceName = null, ipv4 = null, ipv6 = null;
        var port = 0;
        while (NextProperty(ref reader, index, field))
        {
            if (reader.ValueTextEquals("serviceName"u8))
            {
                serviceName = ReadString(ref reader, index, $"{field}.serviceName");
            }
            else if (reader.ValueTextEquals("ipv4"u8))
            {
                ipv4 = ReadString(ref reader, index, $"{field}.ipv4");
            }
            else if (reader.ValueTextEquals("ipv6"u8))
            {
                ipv6 = ReadString(ref reader, index, $"{field}.ipv6");
            }
            else if (reader.ValueTextEquals("port"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null)
                {
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out port))
                    {
                        throw WrongType(index, $"{field}.port", "an integer", reader.TokenType);
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new ZipkinEndpoint(serviceName, ipv4, ipv6, port);
    }

    private static void ReadAnnotations(ref Utf8JsonReader reader, ZipkinSpan span, int index)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        Expect(ref reader, JsonTokenType.StartArray, index, "annotations");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            Expect(ref reader, JsonTokenType.StartObject, index, "annotations[]");
            long timestamp = 0;
            string? value = null;
            while (NextProperty(ref reader, index, "annotations[]"))
            {
                if (reader.ValueTextEquals("timestamp"u8))
                {
                    timestamp = ReadMicros(ref reader, index, "annotations[].timestamp");
                }
                else if (reader.ValueTextEquals("value"u8))
                {
                    value = ReadString(ref reader, index, "annotations[].value");
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (!string.IsNullOrEmpty(value))
            {
                span.Annotations.Add((timestamp, value));
            }
        }
    }

    private static void ReadTags(ref Utf8JsonReader reader, ZipkinSpan span, int index)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        Expect(ref reader, JsonTokenType.StartObject, index, "tags");
        while (NextProperty(ref reader, index, "tags"))
        {
            var key = GetString(ref reader, index, "tags");
            reader.Read();
            // Zipkin's tag values are strings. Numbers and booleans from hand-written clients are kept as their
            // JSON text rather than failing the request: the meaning is unambiguous.
            var value = reader.TokenType switch
            {
                JsonTokenType.String => GetString(ref reader, index, $"tags.{key}"),
                JsonTokenType.Number => Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan),
                JsonTokenType.True => "true",
                JsonTokenType.False => "false",
                JsonTokenType.Null => null,
                _ => throw WrongType(index, $"tags.{key}", "a string", reader.TokenType),
            };
            if (value is not null)
            {
                span.Tags.Add(new KeyValuePair<string, string>(key, value));
            }
        }
    }

    /// <summary>Reads a short string (an id, a kind) without allocating it, and hands it to <paramref name="apply"/>.</summary>
    private static void ReadToken(ref Utf8JsonReader reader, int index, string field, ZipkinSpan span, ReadOnlySpanAction<char, ZipkinSpan> apply)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw WrongType(index, field, "a string", reader.TokenType);
        }

        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length <= 64)
        {
            Span<char> scratch = stackalloc char[64];
            int copied;
            try
            {
                copied = reader.CopyString(scratch);
            }
            catch (InvalidOperationException)
            {
                throw NotText(index, field);
            }

            apply(scratch[..copied], span);
        }
        else
        {
            apply(GetString(ref reader, index, field), span);
        }
    }

    private static string? ReadString(ref Utf8JsonReader reader, int index, string field)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.String => GetString(ref reader, index, field),
            JsonTokenType.Null => null,
            _ => throw WrongType(index, field, "a string", reader.TokenType),
        };
    }

    /// <summary>
    /// Moves to the next token; true when it is a property name. An escaped name is unescaped once here, so that a
    /// lone surrogate in it is a malformed body: ValueTextEquals would throw InvalidOperationException on it.
    /// </summary>
    private static bool NextProperty(ref Utf8JsonReader reader, int index, string field)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName)
        {
            return false;
        }

        if (reader.ValueIsEscaped)
        {
            GetString(ref reader, index, field);
        }

        return true;
    }

    /// <summary>
    /// The current string or property name. <see cref="Utf8JsonReader"/> checks a string's UTF-8 and its \u escapes
    /// only when it is turned into text, and throws InvalidOperationException for invalid UTF-8 or a lone surrogate:
    /// that is the client's malformed body, not a server error.
    /// </summary>
    private static string GetString(ref Utf8JsonReader reader, int index, string field)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw NotText(index, field);
        }
    }

    private static ZipkinFormatException NotText(int index, string field) =>
        new($"span [{index}]: '{field}' is not valid text: it holds invalid UTF-8 or an unpaired surrogate escape (\\uD800-\\uDFFF); send UTF-8 JSON with paired surrogates");

    private static bool ReadBool(ref Utf8JsonReader reader, int index, string field)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False or JsonTokenType.Null => false,
            _ => throw WrongType(index, field, "true or false", reader.TokenType),
        };
    }

    /// <summary>Epoch or duration microseconds: an integer; a fractional number is truncated, as Zipkin's own reader does.</summary>
    private static long ReadMicros(ref Utf8JsonReader reader, int index, string field)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return 0;
        }

        if (reader.TokenType == JsonTokenType.Number)
        {
            if (reader.TryGetInt64(out var micros) && micros >= 0)
            {
                return micros;
            }

            if (reader.TryGetDouble(out var fractional) && fractional is >= 0 and < long.MaxValue / 1000)
            {
                return (long)fractional;
            }
        }

        throw WrongType(index, field, "a non-negative integer of microseconds", reader.TokenType);
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType expected, int index, string field)
    {
        if (reader.TokenType != expected)
        {
            throw WrongType(index, field, expected == JsonTokenType.StartArray ? "an array" : "an object", reader.TokenType);
        }
    }

    private static ZipkinFormatException WrongType(int index, string field, string expected, JsonTokenType actual) =>
        new($"span [{index}]: '{field}' must be {expected}, not {Describe(actual)}");

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString().ToLower(CultureInfo.InvariantCulture),
    };
}

/// <summary>A structurally wrong Zipkin payload; the message says which span and field, and is sent back with the 400.</summary>
internal sealed class ZipkinFormatException(string message) : Exception(message);
