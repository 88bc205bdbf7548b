using Ariadne.Model;

namespace Ariadne.Limits;

/// <summary>
/// The bytes each recent trace of one tenant has sent, for Limits:MaxBytesPerTrace. A trace is forgotten once it has
/// sent nothing for one to two idle periods: counts live in two generations, swapped every period, and a trace seen
/// again moves to the current one. So the memory this takes is bounded by the traces of two periods, with no timer
/// and no per-entry timestamps.
/// </summary>
internal sealed class TraceSizes(TimeSpan idlePeriod, TimeProvider time)
{
    private readonly Lock _lock = new();
    private Dictionary<TraceId, long> _current = [];
    private Dictionary<TraceId, long> _previous = [];
    private long _swappedAt = time.GetTimestamp();

    /// <summary>Adds each span's size to its trace, removing from <paramref name="spans"/> those that would take their trace over <paramref name="maxBytes"/>; returns how many.</summary>
    public int Admit(List<Span> spans, long maxBytes)
    {
        var sizes = new long[spans.Count];
        for (var i = 0; i < spans.Count; i++)
        {
            sizes[i] = SpanSize.Of(spans[i]);
        }

        var write = 0;
        lock (_lock)
        {
            SwapIfDue();
            for (var read = 0; read < spans.Count; read++)
            {
                var span = spans[read];
                var bytes = Bytes(span.TraceId);
                if (bytes + sizes[read] > maxBytes)
                {
                    _current[span.TraceId] = bytes;
                    continue;
                }

                _current[span.TraceId] = bytes + sizes[read];
                spans[write++] = span;
            }
        }

        var refused = spans.Count - write;
        spans.RemoveRange(write, refused);
        return refused;
    }

    private long Bytes(TraceId trace)
    {
        if (_current.TryGetValue(trace, out var bytes))
        {
            return bytes;
        }

        return _previous.Remove(trace, out bytes) ? bytes : 0;
    }

    private void SwapIfDue()
    {
        var now = time.GetTimestamp();
        var elapsed = time.GetElapsedTime(_swappedAt, now);
        if (elapsed < idlePeriod)
        {
            return;
        }

        _previous = elapsed < 2 * idlePeriod ? _current : [];
        _current = new Dictionary<TraceId, long>(_previous.Count);
        _swappedAt = now;
    }
}
