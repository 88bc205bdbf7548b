using System.Globalization;
using System.Text;

namespace Ariadne.GoCompat;

/// <summary>
/// Go's strconv parsers with Go's error texts. Jaeger puts these texts in its 400 answers
/// (<c>strconv.ParseInt: parsing "abc": invalid syntax</c>), so clients that match on them keep working.
/// </summary>
internal static class GoStrconv
{
    /// <summary>strconv.ParseInt(s, 10, bitSize).</summary>
    public static bool TryParseInt(string s, int bitSize, out long value, out string error, string function = "ParseInt")
    {
        value = 0;
        var digits = s.AsSpan();
        var negative = false;
        if (digits.Length > 0 && digits[0] is '+' or '-')
        {
            negative = digits[0] == '-';
            digits = digits[1..];
        }

        if (!TryAccumulate(digits, 10, out var magnitude, out var overflow))
        {
            error = SyntaxError(function, s);
            return false;
        }

        var limit = 1UL << (bitSize - 1);
        if (overflow || (!negative && magnitude >= limit) || (negative && magnitude > limit))
        {
            error = RangeError(function, s);
            return false;
        }

        value = negative ? (long)(0 - magnitude) : (long)magnitude;
        error = string.Empty;
        return true;
    }

    /// <summary>strconv.ParseUint(s, base, 64) for base 10 or 16.</summary>
    public static bool TryParseUint(string s, int numberBase, out ulong value, out string error)
    {
        if (!TryAccumulate(s, numberBase, out value, out var overflow))
        {
            error = SyntaxError("ParseUint", s);
            return false;
        }

        if (overflow)
        {
            value = 0;
            error = RangeError("ParseUint", s);
            return false;
        }

        error = string.Empty;
        return true;
    }

    /// <summary>strconv.ParseBool.</summary>
    public static bool TryParseBool(string s, out bool value, out string error)
    {
        if (Model.SpanMatcher.TryParseGoBool(s, out value))
        {
            error = string.Empty;
            return true;
        }

        error = SyntaxError("ParseBool", s);
        return false;
    }

    /// <summary>strconv.Quote: the string in double quotes with Go escapes.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var rune in s.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\a':
                    sb.Append("\\a");
                    break;
                case '\b':
                    sb.Append("\\b");
                    break;
                case '\f':
                    sb.Append("\\f");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '\v':
                    sb.Append("\\v");
                    break;
                default:
                    if (rune.Value < 0x20 || rune.Value == 0x7f)
                    {
                        sb.Append("\\x").Append(rune.Value.ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else if (!IsGoPrintable(rune))
                    {
                        sb.Append(rune.Value < 0x10000
                            ? "\\u" + rune.Value.ToString("x4", CultureInfo.InvariantCulture)
                            : "\\U" + rune.Value.ToString("x8", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(rune.ToString());
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }

    /// <summary>Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.</summary>
    private static bool IsGoPrintable(Rune rune) => rune.Value == ' ' || Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.SpaceSeparator => false,
        _ => true,
    };

    private static string SyntaxError(string function, string s) => $"strconv.{function}: parsing {Quote(s)}: invalid syntax";

    private static string RangeError(string function, string s) => $"strconv.{function}: parsing {Quote(s)}: value out of range";

    private static bool TryAccumulate(ReadOnlySpan<char> digits, int numberBase, out ulong value, out bool overflow)
    {
        value = 0;
        overflow = false;
        if (digits.IsEmpty)
        {
            return false;
        }

        foreach (var c in digits)
        {
            int digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' when numberBase == 16 => c - 'a' + 10,
                >= 'A' and <= 'F' when numberBase == 16 => c - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            var next = unchecked((value * (ulong)numberBase) + (ulong)digit);
            if (value > ulong.MaxValue / (ulong)numberBase || next < value * (ulong)numberBase)
            {
                // Go reports the range error as soon as the value overflows, before looking at later digits.
                overflow = true;
                return true;
            }

            value = next;
        }

        return true;
    }
}
