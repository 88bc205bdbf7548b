using System.Globalization;

namespace Ariadne.GoCompat;

/// <summary>
/// Go's time.Parse(time.RFC3339Nano, value), which the api_v3 gateway uses for its time parameters, with Go's error
/// texts (<c>parsing time "x" as "2006-01-02T15:04:05.999999999Z07:00": cannot parse "x" as "2006"</c>).
/// </summary>
internal static class GoTime
{
    private const string Layout = "2006-01-02T15:04:05.999999999Z07:00";

    public static bool TryParseRfc3339Nano(string value, out DateTimeOffset time, out string error)
    {
        time = default;
        var rest = value.AsSpan();
        int year, month, day, hour, minute, second;
        long nanos = 0;
        var offsetSeconds = 0;

        if (rest.Length < 4 || !IsDigits(rest[..4]))
        {
            return Fail(value, "2006", rest, out error);
        }

        year = int.Parse(rest[..4], CultureInfo.InvariantCulture);
        rest = rest[4..];
        if (!Skip(ref rest, '-', value, out error)
            || !TryNumber(ref rest, fixedWidth: true, "01", value, out month, out error)
            || !InRange(month, 1, 12, "month", value, out error)
            || !Skip(ref rest, '-', value, out error)
            || !TryNumber(ref rest, fixedWidth: true, "02", value, out day, out error)
            || !InRange(day, 0, 31, "day", value, out error)
            || !Skip(ref rest, 'T', value, out error)
            || !TryNumber(ref rest, fixedWidth: false, "15", value, out hour, out error)
            || !InRange(hour, 0, 23, "hour", value, out error)
            || !Skip(ref rest, ':', value, out error)
            || !TryNumber(ref rest, fixedWidth: true, "04", value, out minute, out error)
            || !InRange(minute, 0, 59, "minute", value, out error)
            || !Skip(ref rest, ':', value, out error)
            || !TryNumber(ref rest, fixedWidth: true, "05", value, out second, out error)
            || !InRange(second, 0, 59, "second", value, out error))
        {
            return false;
        }

        if (rest.Length >= 2 && rest[0] is '.' or ',' && char.IsAsciiDigit(rest[1]))
        {
            var digits = 1;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }

            // Go reads at most nine digits of nanoseconds and ignores the rest of an over-long fraction.
            var fraction = rest[1..digits];
            nanos = long.Parse(fraction[..Math.Min(9, fraction.Length)], CultureInfo.InvariantCulture);
            for (var i = fraction.Length; i < 9; i++)
            {
                nanos *= 10;
            }

            rest = rest[digits..];
        }

        if (rest.Length >= 1 && rest[0] == 'Z')
        {
            rest = rest[1..];
        }
        else
        {
            var zone = rest;
            if (rest.Length < 6 || rest[3] != ':' || !IsDigits(rest.Slice(1, 2)) || !IsDigits(rest.Slice(4, 2)) || rest[0] is not ('+' or '-'))
            {
                return Fail(value, "Z07:00", zone, out error);
            }

            var zoneHours = int.Parse(rest.Slice(1, 2), CultureInfo.InvariantCulture);
            var zoneMinutes = int.Parse(rest.Slice(4, 2), CultureInfo.InvariantCulture);
            if (zoneHours > 24 || zoneMinutes > 60)
            {
                error = $"parsing time {GoDuration.Quote(value)}: time zone offset {(zoneHours > 24 ? "hour" : "minute")} out of range";
                return false;
            }

            offsetSeconds = ((zoneHours * 60) + zoneMinutes) * 60 * (rest[0] == '-' ? -1 : 1);
            rest = rest[6..];
        }

        if (!rest.IsEmpty)
        {
            error = $"parsing time {GoDuration.Quote(value)}: extra text: {GoDuration.Quote(rest.ToString())}";
            return false;
        }

        if (day < 1 || day > DateTime.DaysInMonth(Math.Max(year, 1), month))
        {
            error = $"parsing time {GoDuration.Quote(value)}: day out of range";
            return false;
        }

        var utc = new DateTime(Math.Max(year, 1), month, day, hour, minute, second, DateTimeKind.Unspecified);
        time = new DateTimeOffset(utc.AddTicks(nanos / 100), TimeSpan.Zero).AddSeconds(-offsetSeconds);
        error = string.Empty;
        return true;
    }

    private static bool Skip(ref ReadOnlySpan<char> rest, char literal, string value, out string error)
    {
        if (rest.IsEmpty || rest[0] != literal)
        {
            return Fail(value, literal.ToString(), rest, out error);
        }

        rest = rest[1..];
        error = string.Empty;
        return true;
    }

    /// <summary>Go's getnum: two digits when fixed width, otherwise one or two.</summary>
    private static bool TryNumber(ref ReadOnlySpan<char> rest, bool fixedWidth, string element, string value, out int number, out string error)
    {
        number = 0;
        if (rest.IsEmpty || !char.IsAsciiDigit(rest[0]))
        {
            return Fail(value, element, rest, out error);
        }

        if (rest.Length < 2 || !char.IsAsciiDigit(rest[1]))
        {
            if (fixedWidth)
            {
                return Fail(value, element, rest, out error);
            }

            number = rest[0] - '0';
            rest = rest[1..];
            error = string.Empty;
            return true;
        }

        number = ((rest[0] - '0') * 10) + (rest[1] - '0');
        rest = rest[2..];
        error = string.Empty;
        return true;
    }

    private static bool InRange(int number, int min, int max, string name, string value, out string error)
    {
        if (number < min || number > max)
        {
            error = $"parsing time {GoDuration.Quote(value)}: {name} out of range";
            return false;
        }

        error = string.Empty;
        return true;
    }

    private static bool Fail(string value, string element, ReadOnlySpan<char> rest, out string error)
    {
        error = $"parsing time {GoDuration.Quote(value)} as {GoDuration.Quote(Layout)}: cannot parse {GoDuration.Quote(rest.ToString())} as {GoDuration.Quote(element)}";
        return false;
    }

    private static bool IsDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
