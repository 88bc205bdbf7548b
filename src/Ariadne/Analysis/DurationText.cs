using System.Globalization;
using Ariadne.GoCompat;

namespace Ariadne.Analysis;

/// <summary>
/// Durations as people type and read them: Go-style input (<c>1.5s</c>, <c>300ms</c>, <c>2h45m</c>, plus <c>d</c>
/// for Jaeger UI's lookbacks such as <c>2d</c>), and short readable output (<c>1.23s</c>, <c>450ms</c>, <c>12µs</c>).
/// </summary>
public static class DurationText
{
    /// <summary>Go's duration syntax (one parser for the whole server), plus whole days (<c>2d</c>) for lookbacks.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        long nanos;
        if (trimmed.EndsWith('d'))
        {
            if (!int.TryParse(trimmed.AsSpan(0, trimmed.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var days)
                || days > TimeSpan.MaxValue.Days)
            {
                return false;
            }

            value = TimeSpan.FromDays(days);
            return true;
        }

        if (!GoDuration.TryParse(trimmed, out nanos, out _) || nanos < 0)
        {
            return false;
        }

        value = TimeSpan.FromTicks(nanos / 100);
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
