using Ariadne.Model;

namespace Ariadne.Storage.ClickHouse.Minutes;

/// <summary>
/// Dependency edges from spans as they arrive, before sampling: a child span and its parent, when their services
/// differ, make one call from the parent's service to the child's, in the minute the child starts in, an error when
/// the child failed (the definition Jaeger's dependency jobs and the storage contract use). The two usually arrive
/// in different requests (a parent ends, and is exported, after its children), so each side waits up to
/// <see cref="Wait"/> for the other: a span is remembered as a possible parent, a child whose parent has not come
/// waits as an orphan. Memory is bounded by <see cref="MaxWaiting"/>; past it the oldest are forgotten. Not
/// thread-safe: the feed calls it under its lock.
/// </summary>
internal sealed class ParentChildPairing(TimeProvider time)
{
    /// <summary>How long a span waits for its parent, or for its children.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>Spans remembered as parents plus orphans waiting, at most.</summary>
    public const int MaxWaiting = 1_000_000;

    private readonly long _waitTicks = (long)(Wait.TotalSeconds * time.TimestampFrequency);
    private readonly Dictionary<SpanKey, string> _parents = [];
    private readonly Dictionary<SpanKey, List<Orphan>> _orphans = [];
    private readonly Queue<(SpanKey Key, long Since, bool IsOrphan)> _order = new();

    /// <summary>Pairs a batch's spans with each other and with those waiting; calls <paramref name="edge"/> per pair.</summary>
    public void Pair(string tenant, IReadOnlyList<Span> spans, Action<EdgeKey, bool> edge)
    {
        var now = time.GetTimestamp();
        Expire(now);
        foreach (var span in spans)
        {
            var key = new SpanKey(tenant, span.TraceId, span.SpanId);
            if (_parents.TryAdd(key, span.ServiceName))
            {
                _order.Enqueue((key, now, false));
            }

            if (_orphans.Remove(key, out var children))
            {
                foreach (var child in children)
                {
                    Emit(tenant, span.ServiceName, child, edge);
                }
            }
        }

        foreach (var span in spans)
        {
            if (span.ParentSpanId.IsEmpty)
            {
                continue;
            }

            var child = new Orphan(span.ServiceName, span.IsError, span.StartTimeUnixNano);
            var parentKey = new SpanKey(tenant, span.TraceId, span.ParentSpanId);
            if (_parents.TryGetValue(parentKey, out var parentService))
            {
                Emit(tenant, parentService, child, edge);
                continue;
            }

            if (!_orphans.TryGetValue(parentKey, out var waiting))
            {
                _orphans[parentKey] = waiting = [];
                _order.Enqueue((parentKey, now, true));
            }

            waiting.Add(child);
        }

        while (_parents.Count + _orphans.Count > MaxWaiting && _order.TryDequeue(out var oldest))
        {
            Forget(oldest.Key, oldest.IsOrphan);
        }
    }

    /// <summary>Spans remembered as parents and orphans waiting (for tests and figures).</summary>
    public int Waiting => _parents.Count + _orphans.Count;

    private static void Emit(string tenant, string parentService, Orphan child, Action<EdgeKey, bool> edge)
    {
        if (!string.Equals(parentService, child.Service, StringComparison.Ordinal))
        {
            edge(new EdgeKey(tenant, parentService, child.Service, MinuteOf(child.StartNanos)), child.IsError);
        }
    }

    /// <summary>The Unix second of the minute a nanosecond timestamp falls in.</summary>
    public static long MinuteOf(long nanos) => Math.Max(0, nanos) / 60_000_000_000 * 60;

    private void Expire(long now)
    {
        while (_order.TryPeek(out var next) && now - next.Since > _waitTicks)
        {
            _order.Dequeue();
            Forget(next.Key, next.IsOrphan);
        }
    }

    private void Forget(SpanKey key, bool isOrphan)
    {
        if (isOrphan)
        {
            _orphans.Remove(key);
        }
        else
        {
            _parents.Remove(key);
        }
    }

    private readonly record struct SpanKey(string Tenant, TraceId TraceId, SpanId SpanId);

    private readonly record struct Orphan(string Service, bool IsError, long StartNanos);
}
