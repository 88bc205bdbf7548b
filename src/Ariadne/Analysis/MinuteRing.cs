namespace Ariadne.Analysis;

/// <summary>
/// Figures (a fixed number of counters) per minute for the last <see cref="SpanMetricsAggregator.RecentMinutes"/>
/// minutes, in a ring: a minute's slot is taken over by the minute that many minutes later. Not thread-safe: callers
/// lock the ring.
/// </summary>
internal sealed class MinuteRing
{
    private readonly long[] _minutes = new long[SpanMetricsAggregator.RecentMinutes];
    private readonly long[] _values;
    private readonly int _width;

    public MinuteRing(int width)
    {
        _width = width;
        _values = new long[_minutes.Length * width];
        Array.Fill(_minutes, long.MinValue);
    }

    /// <summary>
    /// Whether minutes from <paramref name="start"/> on are all in rings that began counting at
    /// <paramref name="countingSince"/>: none before the process counted, none the rings have already overwritten.
    /// </summary>
    public static bool Covers(DateTimeOffset countingSince, DateTimeOffset now, DateTimeOffset start) =>
        start >= countingSince && start >= now.AddMinutes(-SpanMetricsAggregator.RecentMinutes + 1);

    /// <summary>The first whole minute (Unix minutes) of a window starting or ending at <paramref name="time"/>.</summary>
    public static long MinuteBeginningAtOrAfter(DateTimeOffset time)
    {
        var millis = time.ToUnixTimeMilliseconds();
        return (millis / 60_000) + (millis % 60_000 > 0 ? 1 : 0);
    }

    /// <summary>The counters of <paramref name="minute"/> to add to; empty when the ring already holds a newer minute there.</summary>
    public Span<long> For(long minute)
    {
        var slot = (int)((ulong)minute % (ulong)_minutes.Length);
        var values = _values.AsSpan(slot * _width, _width);
        if (_minutes[slot] != minute)
        {
            if (_minutes[slot] > minute)
            {
                return []; // Older than the ring reaches.
            }

            _minutes[slot] = minute;
            values.Clear();
        }

        return values;
    }

    /// <summary>Adds the counters of the minutes in [<paramref name="fromMinute"/>, <paramref name="toMinute"/>) to <paramref name="totals"/>.</summary>
    public void AddTo(long fromMinute, long toMinute, Span<long> totals)
    {
        for (var slot = 0; slot < _minutes.Length; slot++)
        {
            if (_minutes[slot] >= fromMinute && _minutes[slot] < toMinute)
            {
                var values = _values.AsSpan(slot * _width, _width);
                for (var i = 0; i < _width; i++)
                {
                    totals[i] += values[i];
                }
            }
        }
    }
}
