namespace Ariadne.Analysis;

/// <summary>
/// Figures (a fixed number of counters) per minute for the last <see cref="SpanMetricsAggregator.RecentMinutes"/>
/// minutes, in a ring: a minute's slot is taken over by the minute that many minutes later. Not thread-safe: callers
/// lock the ring.
/// </summary>
internal sealed class MinuteRing(int width)
{
    // Slots are allocated when first used: a series seen once costs one slot, not the whole ring.
    private readonly Slot?[] _slots = new Slot?[SpanMetricsAggregator.RecentMinutes];

    /// <summary>
    /// The first whole minute (Unix minutes) that rings which began counting at <paramref name="countingSince"/> hold
    /// entirely at <paramref name="now"/>: not before the process counted, not one the rings have overwritten.
    /// </summary>
    public static long FirstCountedMinute(DateTimeOffset countingSince, DateTimeOffset now)
    {
        var oldestKept = now.AddMinutes(-SpanMetricsAggregator.RecentMinutes + 1);
        return MinuteBeginningAtOrAfter(countingSince > oldestKept ? countingSince : oldestKept);
    }

    /// <summary>
    /// The Unix minute a time in Unix nanoseconds falls in, rounding down before 1970 too. The embedded engine's
    /// aggregates use the same minutes (<c>Aggregates.MinuteOf</c>); storage does not depend on analysis, so each has it.
    /// </summary>
    public static long MinuteOf(long unixNanos) => Math.DivRem(unixNanos, 60_000_000_000L, out var rem) - (rem < 0 ? 1 : 0);

    /// <summary>The first whole minute (Unix minutes) of a window starting or ending at <paramref name="time"/>.</summary>
    public static long MinuteBeginningAtOrAfter(DateTimeOffset time)
    {
        var millis = time.ToUnixTimeMilliseconds();
        return (millis / 60_000) + (millis % 60_000 > 0 ? 1 : 0);
    }

    /// <summary>The counters of <paramref name="minute"/> to add to; empty when the ring already holds a newer minute there.</summary>
    public Span<long> For(long minute)
    {
        ref var slot = ref _slots[(int)((ulong)minute % (ulong)_slots.Length)];
        slot ??= new Slot(minute, new long[width]);
        if (slot.Minute != minute)
        {
            if (slot.Minute > minute)
            {
                return []; // Older than the ring reaches.
            }

            slot.Minute = minute;
            Array.Clear(slot.Values);
        }

        return slot.Values;
    }

    /// <summary>Adds the counters of the minutes in [<paramref name="fromMinute"/>, <paramref name="toMinute"/>) to <paramref name="totals"/>.</summary>
    public void AddTo(long fromMinute, long toMinute, Span<long> totals)
    {
        foreach (var slot in _slots)
        {
            if (slot is not null && slot.Minute >= fromMinute && slot.Minute < toMinute)
            {
                for (var i = 0; i < slot.Values.Length; i++)
                {
                    totals[i] += slot.Values[i];
                }
            }
        }
    }

    /// <summary>Writes the minutes held (checkpoints).</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(_slots.Count(s => s is not null));
        foreach (var slot in _slots)
        {
            if (slot is not null)
            {
                writer.Write(slot.Minute);
                foreach (var value in slot.Values)
                {
                    writer.Write(value);
                }
            }
        }
    }

    /// <summary>Adds the minutes <see cref="Write"/> wrote (a ring that has counted nothing yet takes them as they were).</summary>
    public void Read(BinaryReader reader)
    {
        for (var count = reader.ReadInt32(); count > 0; count--)
        {
            var counters = For(reader.ReadInt64());
            for (var i = 0; i < width; i++)
            {
                var value = reader.ReadInt64();
                if (!counters.IsEmpty)
                {
                    counters[i] += value;
                }
            }
        }
    }

    private sealed class Slot(long minute, long[] values)
    {
        public long Minute { get; set; } = minute;

        public long[] Values { get; } = values;
    }
}
