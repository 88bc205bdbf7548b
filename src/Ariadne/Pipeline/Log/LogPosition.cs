namespace Ariadne.Pipeline.Log;

/// <summary>
/// Where a record starts in the ingest log: its segment and its byte offset in that segment. Positions order the
/// records as they were appended (and handed to the consumers), so "everything up to here" is one value.
/// </summary>
public readonly record struct LogPosition(long Segment, long Offset) : IComparable<LogPosition>
{
    /// <summary>Before every record: a consumer at this position has made nothing durable yet.</summary>
    public static readonly LogPosition Start = new(0, 0);

    public int CompareTo(LogPosition other) =>
        Segment != other.Segment ? Segment.CompareTo(other.Segment) : Offset.CompareTo(other.Offset);

    public static bool operator <(LogPosition a, LogPosition b) => a.CompareTo(b) < 0;

    public static bool operator >(LogPosition a, LogPosition b) => a.CompareTo(b) > 0;

    public static bool operator <=(LogPosition a, LogPosition b) => a.CompareTo(b) <= 0;

    public static bool operator >=(LogPosition a, LogPosition b) => a.CompareTo(b) >= 0;

    public static LogPosition Min(LogPosition a, LogPosition b) => a <= b ? a : b;

    public static LogPosition Max(LogPosition a, LogPosition b) => a >= b ? a : b;

    public override string ToString() => $"{Segment}:{Offset}";

    /// <summary>Parses <see cref="ToString"/>'s form (checkpoint files).</summary>
    public static LogPosition Parse(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0
            || !long.TryParse(text.AsSpan(0, colon), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var segment)
            || !long.TryParse(text.AsSpan(colon + 1).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var offset))
        {
            throw new InvalidDataException($"'{text}' is not a log position (segment:offset).");
        }

        return new LogPosition(segment, offset);
    }
}
