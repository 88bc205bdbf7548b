using System.Globalization;

namespace Ariadne.Analysis;

/// <summary>
/// Durations as people type and read them: Go-style input (<c>1.5s</c>, <c>300ms</c>, <c>2h45m</c>, plus <c>d</c>
/// for Jaeger UI's lookbacks such as <c>2d</c>), and short readable output (<c>1.23s</c>, <c>450ms</c>, <c>12µs</c>).
/// </summary>
public static class DurationText
{
    private static readonly (string Unit, double Nanos)[] s_units =
    [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86400e9),
    ];

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var rest = text.Trim().AsSpan();
        double nanos = 0;
        while (!rest.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < rest.Length && (char.IsAsciiDigit(rest[numberLength]) || rest[numberLength] == '.'))
            {
                numberLength++;
            }

            if (numberLength == 0
                || !double.TryParse(rest[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            rest = rest[numberLength..];
            var unitLength = 0;
            while (unitLength < rest.Length && !char.IsAsciiDigit(rest[unitLength]) && rest[unitLength] != '.')
            {
                unitLength++;
            }

            var unit = rest[..unitLength].ToString();
            var match = Array.FindIndex(s_units, u => u.Unit == unit);
            if (match < 0)
            {
                return false;
            }

            nanos += number * s_units[match].Nanos;
            rest = rest[unitLength..];
        }

        if (nanos > TimeSpan.MaxValue.Ticks * 100.0)
        {
            return false;
        }

        value = TimeSpan.FromTicks((long)(nanos / 100));
        return true;
    }

    public static string Format(long nanos)
    {
        var abs = Math.Abs((double)nanos);
        var sign = nanos < 0 ? "-" : string.Empty;
        return abs switch
        {
            < 1e3 => $"{sign}{abs:0}ns",
            < 1e6 => $"{sign}{Round(abs / 1e3)}µs",
            < 1e9 => $"{sign}{Round(abs / 1e6)}ms",
            < 60e9 => $"{sign}{Round(abs / 1e9)}s",
            < 3600e9 => $"{sign}{Math.Floor(abs / 60e9):0}m{Math.Floor(abs % 60e9 / 1e9):0}s",
            _ => $"{sign}{Math.Floor(abs / 3600e9):0}h{Math.Floor(abs % 3600e9 / 60e9):0}m",
        };
    }

    private static string Round(double value) =>
        value.ToString(value >= 100 ? "0" : value >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);
}
