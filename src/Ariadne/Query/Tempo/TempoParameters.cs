using System.Globalization;
using System.Text;
using Ariadne.GoCompat;
using Ariadne.Model;

namespace Ariadne.Query.Tempo;

/// <summary>A request Tempo would refuse with 400 and this plain-text message (what its <c>httpInvalidRequest</c> answers).</summary>
internal sealed class TempoBadRequestException(string message) : Exception(message);

/// <summary>
/// Tempo's query parameters, read as grafana/tempo's pkg/api/http.go reads them, with its error messages: search
/// times in unix seconds, metrics times in seconds, nanoseconds or RFC 3339, Go durations, logfmt <c>tags</c>,
/// trace ids of 1 to 32 hex digits.
/// </summary>
internal static class TempoParameters
{
    /// <summary>A search or tag lookup without <c>start</c>/<c>end</c> reads this far back (Tempo reads its recent data then).</summary>
    public static readonly TimeSpan DefaultLookback = TimeSpan.FromHours(1);

    /// <summary>Metrics queries without a window cover the last hour, as Tempo's <c>defaultSince</c>.</summary>
    public static readonly TimeSpan DefaultMetricsSince = TimeSpan.FromHours(1);

    public static string? Get(HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    /// <summary>util.HexStringToTraceID: hex digits only, at most 128 bits, shorter ids padded with zeros.</summary>
    public static TraceId ParseTraceId(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (!char.IsAsciiHexDigit(text[i]))
            {
                throw new TempoBadRequestException($"trace IDs can only contain hex characters: invalid character '{text[i]}' at position {i + 1}");
            }
        }

        if (text.Length > 32)
        {
            throw new TempoBadRequestException("trace IDs can't be larger than 128 bits");
        }

        TraceId.TryParseHex(text.PadLeft(32, '0'), out var id);
        return id;
    }

    /// <summary>Tempo's hex form of a trace id in search results: leading zeros trimmed (util.TraceIDToHexString).</summary>
    public static string TraceIdText(TraceId id)
    {
        var hex = id.ToHex().TrimStart('0');
        return hex.Length == 0 ? "0" : hex;
    }

    /// <summary>The optional <c>start</c>/<c>end</c> of a trace-by-id request, unix seconds; end must follow start.</summary>
    public static (DateTimeOffset? Start, DateTimeOffset? End) ParseTraceWindow(HttpRequest request)
    {
        var start = ParseOptionalSeconds(request, "start", 64);
        var end = ParseOptionalSeconds(request, "end", 64);
        if (start is { } s && end is { } e && e <= s)
        {
            throw new TempoBadRequestException(
                $"http parameter start must be before end. received start={s.ToUnixTimeSeconds()} end={e.ToUnixTimeSeconds()}");
        }

        return (start, end);
    }

    /// <summary>
    /// The window of a search or tag lookup (unix seconds, as uint32 in Tempo). Both or neither: without them the last
    /// <see cref="DefaultLookback"/>.
    /// </summary>
    public static (DateTimeOffset Start, DateTimeOffset End) ParseSearchWindow(HttpRequest request, DateTimeOffset now, bool signed = false)
    {
        var start = ParseOptionalSeconds(request, "start", 32, signed);
        var end = ParseOptionalSeconds(request, "end", 32, signed);
        if (start is null && end is null)
        {
            return (now - DefaultLookback, now);
        }

        var from = start ?? DateTimeOffset.UnixEpoch;
        var to = end ?? DateTimeOffset.UnixEpoch;
        if (to <= from)
        {
            throw new TempoBadRequestException(
                $"http parameter start must be before end. received start={from.ToUnixTimeSeconds()} end={to.ToUnixTimeSeconds()}");
        }

        return (from, to);
    }

    /// <summary>
    /// A metrics query's window (api.bounds): <c>start</c> and <c>end</c> as unix seconds (10 digits or fewer),
    /// nanoseconds, fractional seconds or RFC 3339; <c>since</c> (a Prometheus duration) back from the end, else an hour.
    /// </summary>
    public static (long StartNanos, long EndNanos) ParseMetricsWindow(HttpRequest request, DateTimeOffset now)
    {
        var since = DefaultMetricsSince;
        if (Get(request, "since") is { Length: > 0 } sinceText)
        {
            if (!GoDuration.TryParse(sinceText, out var sinceNanos, out var error))
            {
                throw new TempoBadRequestException($"could not parse 'since' parameter: {error}");
            }

            since = TimeSpan.FromTicks(sinceNanos / 100);
        }

        var nowNanos = TraceQueryService.ToNanos(now);
        var end = ParseTimestamp(Get(request, "end"), nowNanos, "end");
        var endOrNow = Math.Min(end, nowNanos);
        var start = ParseTimestamp(Get(request, "start"), endOrNow - since.Ticks * 100, "start");
        if (end <= start)
        {
            throw new TempoBadRequestException($"end ({end}) must be after start ({start}): give an end later than the start, or leave both out for the last hour.");
        }

        return (start, end);
    }

    /// <summary>The <c>step</c> of a range query: seconds or a Go duration; by default Tempo's DefaultQueryRangeStep.</summary>
    public static long ParseStep(HttpRequest request, long startNanos, long endNanos)
    {
        var text = Get(request, "step");
        if (string.IsNullOrEmpty(text))
        {
            return DefaultStep(startNanos, endNanos);
        }

        long step;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            step = (long)(seconds * 1e9);
        }
        else if (!GoDuration.TryParse(text, out step, out _))
        {
            throw new TempoBadRequestException($"cannot parse \"{text}\" to a valid duration");
        }

        if (step <= 0)
        {
            throw new TempoBadRequestException($"cannot parse \"{text}\": step must be positive");
        }

        return step;
    }

    /// <summary>traceql.DefaultQueryRangeStep: about 240 points, rounded down to a whole granularity, at least 1 s (50 ms under a minute).</summary>
    public static long DefaultStep(long startNanos, long endNanos)
    {
        var delta = endNanos - startNanos;
        var baseline = delta / 240;
        if (delta < 60_000_000_000)
        {
            const long g = 50_000_000;
            return baseline > g ? baseline / g * g : g;
        }

        foreach (var g in (ReadOnlySpan<long>)[3_600_000_000_000, 300_000_000_000, 60_000_000_000, 15_000_000_000, 5_000_000_000, 1_000_000_000])
        {
            if (baseline > g)
            {
                return baseline / g * g;
            }
        }

        return 1_000_000_000;
    }

    /// <summary><c>limit</c>, <c>spss</c>: unsigned 32-bit integers; a zero limit is refused as Tempo refuses it.</summary>
    public static uint? ParseUInt(HttpRequest request, string name, bool positive = false)
    {
        if (Get(request, name) is not { } text)
        {
            return null;
        }

        if (!GoStrconv.TryParseUint(text, 10, out var value, out var error) || value > uint.MaxValue)
        {
            throw new TempoBadRequestException($"invalid {name}: {(value > uint.MaxValue ? $"strconv.ParseUint: parsing {GoStrconv.Quote(text)}: value out of range" : error)}");
        }

        if (positive && value == 0)
        {
            throw new TempoBadRequestException($"invalid {name}: must be a positive number");
        }

        return (uint)value;
    }

    /// <summary><c>minDuration</c>/<c>maxDuration</c> of the legacy tag search: Go durations, max not below min.</summary>
    public static (TimeSpan? Min, TimeSpan? Max) ParseDurations(HttpRequest request)
    {
        var min = ParseDuration(request, "minDuration");
        var max = ParseDuration(request, "maxDuration");
        if (min is { } a && max is { } b && a > b)
        {
            throw new TempoBadRequestException("invalid maxDuration: must be greater than minDuration");
        }

        return (min, max);
    }

    /// <summary>The legacy <c>tags</c> parameter: logfmt <c>key=value</c> pairs, each key once (Tempo's messages).</summary>
    public static List<(string Key, string Value)> ParseLogfmtTags(string tags)
    {
        var pairs = new List<(string Key, string Value)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        while (i < tags.Length)
        {
            if (tags[i] == ' ')
            {
                i++;
                continue;
            }

            var key = ReadLogfmtValue(tags, ref i, isKey: true);
            var value = "";
            if (i < tags.Length && tags[i] == '=')
            {
                i++;
                value = ReadLogfmtValue(tags, ref i, isKey: false);
            }

            if (key.Length == 0)
            {
                throw new TempoBadRequestException($"invalid tags: unexpected '=' at pos {i}");
            }

            if (!seen.Add(key))
            {
                throw new TempoBadRequestException($"invalid tags: tag {key} has been set twice");
            }

            pairs.Add((key, value));
        }

        return pairs;
    }

    /// <summary>
    /// Tag equalities of the legacy search as one TraceQL spanset filter over unscoped attributes (<c>service.name</c>
    /// is the resource's, <c>name</c> the span name), so both search forms run on one engine.
    /// </summary>
    public static string TagsToTraceQl(IEnumerable<(string Key, string Value)> tags)
    {
        var conditions = tags.Select(t => t.Key switch
        {
            "service.name" => $"resource.service.name = {Quote(t.Value)}",
            "name" => $"name = {Quote(t.Value)}",
            _ => $".{t.Key} = {Quote(t.Value)}",
        }).ToList();
        return conditions.Count == 0 ? "{ }" : "{ " + string.Join(" && ", conditions) + " }";
    }

    /// <summary>Tempo's TraceQL parse error: <c>parse error at line L, col C: message</c>, counted from 1.</summary>
    public static string ParseErrorText(string query, int position, string message)
    {
        position = Math.Clamp(position, 0, query.Length);
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < position; i++)
        {
            if (query[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return $"parse error at line {line}, col {position - lineStart + 1}: {message}";
    }

    /// <summary>A TraceQL string literal.</summary>
    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string ReadLogfmtValue(string text, ref int i, bool isKey)
    {
        if (!isKey && i < text.Length && text[i] == '"')
        {
            var sb = new StringBuilder();
            var start = i;
            i++;
            while (i < text.Length && text[i] != '"')
            {
                if (text[i] == '\\' && i + 1 < text.Length)
                {
                    i++;
                }

                sb.Append(text[i]);
                i++;
            }

            if (i >= text.Length)
            {
                throw new TempoBadRequestException($"invalid tags: unterminated quoted value at pos {start + 1}");
            }

            i++;
            return sb.ToString();
        }

        var from = i;
        while (i < text.Length && text[i] != ' ' && (!isKey || text[i] != '='))
        {
            i++;
        }

        return text[from..i];
    }

    private static TimeSpan? ParseDuration(HttpRequest request, string name)
    {
        if (Get(request, name) is not { } text)
        {
            return null;
        }

        if (!GoDuration.TryParse(text, out var nanos, out var error))
        {
            throw new TempoBadRequestException($"invalid {name}: {error}");
        }

        return TimeSpan.FromTicks(nanos / 100);
    }

    private static DateTimeOffset? ParseOptionalSeconds(HttpRequest request, string name, int bits, bool signed = false)
    {
        if (Get(request, name) is not { } text)
        {
            return null;
        }

        long seconds;
        string error;
        var ok = bits == 64 || signed
            ? GoStrconv.TryParseInt(text, bits, out seconds, out error)
            : TryParseUInt32(text, out seconds, out error);
        if (!ok)
        {
            throw new TempoBadRequestException($"invalid {name}: {error}");
        }

        return DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, -62135596800, 253402300799));
    }

    private static bool TryParseUInt32(string text, out long value, out string error)
    {
        if (!GoStrconv.TryParseUint(text, 10, out var parsed, out error))
        {
            value = 0;
            return false;
        }

        if (parsed > uint.MaxValue)
        {
            value = 0;
            error = $"strconv.ParseUint: parsing {GoStrconv.Quote(text)}: value out of range";
            return false;
        }

        value = (long)parsed;
        return true;
    }

    /// <summary>api.parseTimestamp: fractional seconds, integer seconds (10 digits or fewer) or nanoseconds, or RFC 3339.</summary>
    private static long ParseTimestamp(string? text, long defaultNanos, string name)
    {
        if (string.IsNullOrEmpty(text))
        {
            return defaultNanos;
        }

        if (text.Contains('.') && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var fractional))
        {
            var whole = Math.Truncate(fractional);
            var ms = Math.Round((fractional - whole) * 1000);
            return (long)whole * 1_000_000_000 + (long)ms * 1_000_000;
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            return text.Length <= 10 ? number * 1_000_000_000 : number;
        }

        if (GoTime.TryParseRfc3339Nano(text, out var time, out _))
        {
            return TraceQueryService.ToNanos(time);
        }

        throw new TempoBadRequestException($"could not parse '{name}' parameter: strconv.ParseInt: parsing {GoStrconv.Quote(text)}: invalid syntax");
    }
}
