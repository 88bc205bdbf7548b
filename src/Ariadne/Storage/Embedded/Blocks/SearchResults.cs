using Ariadne.Model;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// Trace ids found by a search with the start of their latest matching span, so the newest come first. Only the
/// newest <c>limit</c> traces can be in the answer: once more are found, older entries are dropped and the start of
/// the limit-th newest becomes a threshold that lets blocks and row groups end their search early.
/// </summary>
public sealed class SearchResults(int limit)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TraceId, long> _found = [];
    private long? _threshold;

    /// <summary>A span must start at or after this to change the answer; null while fewer than the limit were found.</summary>
    public long? Threshold
    {
        get
        {
            lock (_lock)
            {
                return _threshold;
            }
        }
    }

    public void Add(TraceId traceId, long startUnixNano) => AddRange([(traceId, startUnixNano)]);

    public void AddRange(ReadOnlySpan<(TraceId TraceId, long StartUnixNano)> found)
    {
        lock (_lock)
        {
            foreach (var (traceId, start) in found)
            {
                if (start < _threshold)
                {
                    continue;
                }

                if (!_found.TryGetValue(traceId, out var existing) || existing < start)
                {
                    _found[traceId] = start;
                }
            }

            // Pruning early gives the threshold early; each prune sorts only a few entries.
            if (_found.Count >= 2 * limit)
            {
                Prune();
            }
        }
    }

    /// <summary>The newest <c>limit</c> traces, newest first.</summary>
    public List<TraceId> Newest()
    {
        lock (_lock)
        {
            return _found.OrderByDescending(f => f.Value).Take(limit).Select(f => f.Key).ToList();
        }
    }

    private void Prune()
    {
        var kept = _found.OrderByDescending(f => f.Value).Take(limit).ToList();
        _found.Clear();
        foreach (var (id, start) in kept)
        {
            _found[id] = start;
        }

        // A dropped trace had no matching span at or after the threshold, so it can only re-enter with a newer one.
        _threshold = kept.Count == limit ? kept[^1].Value : null;
    }

    /// <summary>Sets the threshold once the limit is reached, so callers can stop before the next prune.</summary>
    public void Settle()
    {
        lock (_lock)
        {
            if (_found.Count >= limit)
            {
                Prune();
            }
        }
    }
}
