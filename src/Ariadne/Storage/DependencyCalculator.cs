using Ariadne.Model;

namespace Ariadne.Storage;

/// <summary>
/// Service-to-service edges from parent/child pairs whose services differ, as Jaeger's memory store and its
/// Spark dependencies job compute them. An edge's error count is the number of child spans with error status.
/// </summary>
public sealed class DependencyCalculator
{
    private readonly Dictionary<(string Parent, string Child), (long Calls, long Errors)> _edges = [];

    public void AddTrace(IReadOnlyList<Span> trace)
    {
        var byId = new Dictionary<SpanId, Span>(trace.Count);
        foreach (var span in trace)
        {
            byId.TryAdd(span.SpanId, span);
        }

        foreach (var child in trace)
        {
            if (child.ParentSpanId.IsEmpty
                || !byId.TryGetValue(child.ParentSpanId, out var parent)
                || string.Equals(parent.ServiceName, child.ServiceName, StringComparison.Ordinal))
            {
                continue;
            }

            var key = (parent.ServiceName, child.ServiceName);
            _edges.TryGetValue(key, out var counts);
            _edges[key] = (counts.Calls + 1, counts.Errors + (child.IsError ? 1 : 0));
        }
    }

    public IReadOnlyList<DependencyLink> ToLinks() =>
        _edges.OrderBy(e => e.Key.Parent, StringComparer.Ordinal).ThenBy(e => e.Key.Child, StringComparer.Ordinal)
            .Select(e => new DependencyLink(e.Key.Parent, e.Key.Child, e.Value.Calls, e.Value.Errors))
            .ToList();
}
