using System.Globalization;
using System.Text;

namespace Ariadne.GoCompat;

/// <summary>
/// Go's time.ParseDuration and Duration.String, as Jaeger's query API reads <c>minDuration=1.2s</c> and writes
/// clock-skew warnings. Durations are whole nanoseconds, as in Go.
/// </summary>
internal static class GoDuration
{
    private const ulong MaxMagnitude = 1UL << 63;

    private static readonly Dictionary<string, ulong> s_units = new(StringComparer.Ordinal)
    {
        ["ns"] = 1,
        ["us"] = 1_000,
        ["\u00b5s"] = 1_000,
        ["\u03bcs"] = 1_000,
        ["ms"] = 1_000_000,
        ["s"] = 1_000_000_000,
        ["m"] = 60_000_000_000,
        ["h"] = 3_600_000_000_000,
    };

    /// <summary>Parses <c>[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+</c>, e.g. <c>1h30m</c>, <c>1.5s</c>, <c>300ms</c>, <c>-2µs</c>.</summary>
    public static bool TryParse(string text, out long nanoseconds, out string error)
    {
        nanoseconds = 0;
        var s = text.AsSpan();
        var negative = false;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s is "0")
        {
            error = string.Empty;
            return true;
        }

        if (s.IsEmpty)
        {
            error = Invalid(text);
            return false;
        }

        ulong total = 0;
        while (!s.IsEmpty)
        {
            if (!(s[0] == '.' || char.IsAsciiDigit(s[0])))
            {
                error = Invalid(text);
                return false;
            }

            var before = s.Length;
            if (!TryLeadingInt(ref s, out var whole))
            {
                error = Invalid(text);
                return false;
            }

            var hasWhole = before != s.Length;
            var hasFraction = false;
            ulong fraction = 0;
            var scale = 1.0;
            if (!s.IsEmpty && s[0] == '.')
            {
                s = s[1..];
                var afterPoint = s.Length;
                LeadingFraction(ref s, out fraction, out scale);
                hasFraction = afterPoint != s.Length;
            }

            if (!hasWhole && !hasFraction)
            {
                error = Invalid(text);
                return false;
            }

            var unitLength = 0;
            while (unitLength < s.Length && !(s[unitLength] == '.' || char.IsAsciiDigit(s[unitLength])))
            {
                unitLength++;
            }

            if (unitLength == 0)
            {
                error = "time: missing unit in duration " + Quote(text);
                return false;
            }

            var unitText = s[..unitLength].ToString();
            s = s[unitLength..];
            if (!s_units.TryGetValue(unitText, out var unit))
            {
                error = "time: unknown unit " + Quote(unitText) + " in duration " + Quote(text);
                return false;
            }

            if (whole > MaxMagnitude / unit)
            {
                error = Invalid(text);
                return false;
            }

            whole *= unit;
            if (fraction > 0)
            {
                whole += (ulong)(fraction * (unit / scale));
                if (whole > MaxMagnitude)
                {
                    error = Invalid(text);
                    return false;
                }
            }

            total += whole;
            if (total > MaxMagnitude)
            {
                error = Invalid(text);
                return false;
            }
        }

        if (!negative && total > MaxMagnitude - 1)
        {
            error = Invalid(text);
            return false;
        }

        nanoseconds = negative ? unchecked((long)(0 - total)) : (long)total;
        error = string.Empty;
        return true;
    }

    /// <summary>Go's Duration.String: <c>1h2m0.5s</c>, <c>1.5ms</c>, <c>250µs</c>, <c>0s</c>.</summary>
    public static string Format(long nanoseconds)
    {
        var negative = nanoseconds < 0;
        var u = negative ? unchecked(0 - (ulong)nanoseconds) : (ulong)nanoseconds;
        var sb = new StringBuilder();
        if (u < 1_000_000_000)
        {
            if (u == 0)
            {
                return "0s";
            }

            var (precision, unit) = u switch
            {
                < 1_000 => (0, "ns"),
                < 1_000_000 => (3, "\u00b5s"),
                _ => (6, "ms"),
            };
            sb.Append(unit);
            u = PrependFraction(sb, u, precision);
            sb.Insert(0, u.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            sb.Append('s');
            u = PrependFraction(sb, u, 9);
            sb.Insert(0, (u % 60).ToString(CultureInfo.InvariantCulture));
            u /= 60;
            if (u > 0)
            {
                sb.Insert(0, 'm').Insert(0, (u % 60).ToString(CultureInfo.InvariantCulture));
                u /= 60;
                if (u > 0)
                {
                    sb.Insert(0, 'h').Insert(0, u.ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        return negative ? "-" + sb : sb.ToString();
    }

    /// <summary>The time package's own quoting: non-ASCII and control bytes as \xNN, quotes and backslashes escaped.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in s.EnumerateRunes())
        {
            if (rune.Value is < ' ' or >= 0x80)
            {
                var length = rune.EncodeToUtf8(utf8);
                foreach (var b in utf8[..length])
                {
                    sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                }
            }
            else
            {
                if (rune.Value is '"' or '\\')
                {
                    sb.Append('\\');
                }

                sb.Append((char)rune.Value);
            }
        }

        return sb.Append('"').ToString();
    }

    private static string Invalid(string text) => "time: invalid duration " + Quote(text);

    private static bool TryLeadingInt(ref ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        var i = 0;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (value > MaxMagnitude / 10)
            {
                return false;
            }

            value = (value * 10) + (ulong)(s[i] - '0');
            if (value > MaxMagnitude)
            {
                return false;
            }
        }

        s = s[i..];
        return true;
    }

    private static void LeadingFraction(ref ReadOnlySpan<char> s, out ulong value, out double scale)
    {
        value = 0;
        scale = 1;
        var overflow = false;
        var i = 0;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (overflow)
            {
                continue;
            }

            if (value > (MaxMagnitude - 1) / 10)
            {
                overflow = true;
                continue;
            }

            var next = (value * 10) + (ulong)(s[i] - '0');
            if (next > MaxMagnitude)
            {
                overflow = true;
                continue;
            }

            value = next;
            scale *= 10;
        }

        s = s[i..];
    }

    private static ulong PrependFraction(StringBuilder sb, ulong value, int precision)
    {
        var digits = new StringBuilder();
        var print = false;
        for (var i = 0; i < precision; i++)
        {
            var digit = value % 10;
            print |= digit != 0;
            if (print)
            {
                digits.Insert(0, (char)('0' + digit));
            }

            value /= 10;
        }

        if (print)
        {
            sb.Insert(0, "." + digits);
        }

        return value;
    }
}
