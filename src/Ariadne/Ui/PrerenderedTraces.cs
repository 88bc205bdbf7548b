using Ariadne.Query;

namespace Ariadne.Ui;

/// <summary>
/// Hands the trace a prerender read to the live page that follows it, so the live page's first render already shows
/// the trace (no "Loading trace…" between the server's HTML and the circuit, and no second read). The prerender
/// keeps the view here under a random key, which travels in the page's persisted component state; the live page
/// takes it once, for the same tenant and id. Entries not taken (a browser without JavaScript) expire after 30 s, and
/// at most 64 are kept, so a crawler of trace pages holds no more than that.
/// </summary>
public sealed class PrerenderedTraces(TimeProvider time)
{
    private const int Capacity = 64;
    private static readonly TimeSpan s_keep = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Keeps <paramref name="view"/> for the live page; returns the key to persist.</summary>
    public string Put(string tenant, string id, TraceView view)
    {
        var key = Guid.NewGuid().ToString("N");
        var now = time.GetUtcNow();
        lock (_lock)
        {
            foreach (var (old, entry) in _entries)
            {
                if (now - entry.At > s_keep)
                {
                    _entries.Remove(old);
                }
            }

            if (_entries.Count >= Capacity)
            {
                _entries.Remove(_entries.MinBy(e => e.Value.At).Key);
            }

            _entries[key] = new Entry(tenant, id, view, now);
        }

        return key;
    }

    /// <summary>The view kept under <paramref name="key"/> for this tenant and trace id, once; null when gone or not theirs.</summary>
    public TraceView? Take(string key, string tenant, string id)
    {
        lock (_lock)
        {
            if (!_entries.Remove(key, out var entry) || entry.Tenant != tenant || entry.Id != id || time.GetUtcNow() - entry.At > s_keep)
            {
                return null;
            }

            return entry.View;
        }
    }

    private sealed record Entry(string Tenant, string Id, TraceView View, DateTimeOffset At);
}
