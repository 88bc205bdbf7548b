using Ariadne.Model;

namespace Ariadne.Storage;

/// <summary>
/// Service-to-service edges from parent/child span pairs whose services differ, as Jaeger's dependency jobs compute
/// them. A pair belongs to the window its child span starts in; an edge's error count is the number of its child
/// spans with error status.
/// </summary>
public sealed class DependencyCalculator(long windowStartNanos = long.MinValue, long windowEndNanos = long.MaxValue)
{
    private readonly Dictionary<(string Parent, string Child), (long Calls, long Errors)> _edges = [];

    // The spans of the trace being added, by id: one map for every trace, cleared, not one allocated per trace (a new
    // one after a big trace, as clearing costs the capacity a big trace left).
    private Dictionary<SpanId, Span> _byId = [];

    public static DependencyCalculator ForWindow(DateTimeOffset endTime, TimeSpan lookback) =>
        new(ToNanos(endTime - lookback), ToNanos(endTime));

    public void AddTrace(IReadOnlyList<Span> trace)
    {
        var indexed = false;
        foreach (var child in trace)
        {
            if (child.ParentSpanId.IsEmpty || child.StartTimeUnixNano < windowStartNanos || child.StartTimeUnixNano > windowEndNanos)
            {
                continue;
            }

            if (!indexed)
            {
                if (_byId.Count > 4096)
                {
                    _byId = [];
                }

                _byId.Clear();
                foreach (var span in trace)
                {
                    _byId.TryAdd(span.SpanId, span);
                }

                indexed = true;
            }

            if (!_byId.TryGetValue(child.ParentSpanId, out var parent)
                || string.Equals(parent.ServiceName, child.ServiceName, StringComparison.Ordinal))
            {
                continue;
            }

            var key = (parent.ServiceName, child.ServiceName);
            _edges.TryGetValue(key, out var counts);
            _edges[key] = (counts.Calls + 1, counts.Errors + (child.IsError ? 1 : 0));
        }
    }

    public IReadOnlyList<DependencyLink> ToLinks() => DependencyLink.Sorted(_edges);

    private static long ToNanos(DateTimeOffset time)
    {
        var ticks = (time - DateTimeOffset.UnixEpoch).Ticks;
        return Math.Clamp(ticks, long.MinValue / 100, long.MaxValue / 100) * 100;
    }
}
