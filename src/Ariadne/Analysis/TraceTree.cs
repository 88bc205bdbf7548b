using Ariadne.Model;

namespace Ariadne.Analysis;

/// <summary>One span in a <see cref="TraceTree"/>: its place in the tree and in depth-first display order.</summary>
public sealed class TraceNode(Span span, int depth)
{
    public Span Span { get; } = span;

    public int Depth { get; internal set; } = depth;

    public TraceNode? Parent { get; internal set; }

    public List<TraceNode> Children { get; } = [];

    /// <summary>Position in <see cref="TraceTree.Nodes"/> (depth-first, children by start time).</summary>
    public int Index { get; internal set; }

    /// <summary>Index of the last node of this node's subtree; a collapsed node hides (Index, SubtreeEnd].</summary>
    public int SubtreeEnd { get; internal set; }
}

/// <summary>
/// A trace as a tree: parent/child links resolved, children ordered by start time, spans whose parent was never
/// received shown as extra roots (as Jaeger UI does), duplicates (same span id) kept once, cycles broken.
/// </summary>
public sealed class TraceTree
{
    private readonly Dictionary<SpanId, TraceNode> _byId;

    private TraceTree(TraceId traceId, List<TraceNode> roots, List<TraceNode> nodes, Dictionary<SpanId, TraceNode> byId)
    {
        TraceId = traceId;
        Roots = roots;
        Nodes = nodes;
        _byId = byId;
        if (nodes.Count == 0)
        {
            return;
        }

        StartNanos = nodes.Min(n => n.Span.StartTimeUnixNano);
        EndNanos = nodes.Max(n => n.Span.EndTimeUnixNano);
        MaxDepth = nodes.Max(n => n.Depth) + 1;
        ErrorCount = nodes.Count(n => n.Span.IsError);
        Services = nodes.GroupBy(n => n.Span.ServiceName, StringComparer.Ordinal)
            .Select(g => new ServiceSpanCount(g.Key, g.Count(), g.Count(n => n.Span.IsError)))
            .OrderByDescending(s => s.Spans).ThenBy(s => s.Service, StringComparer.Ordinal).ToList();
    }

    public TraceId TraceId { get; }

    /// <summary>Top-level spans ordered by start time; the first is the trace's root.</summary>
    public IReadOnlyList<TraceNode> Roots { get; }

    /// <summary>Every span in display order: depth-first, children by start time.</summary>
    public IReadOnlyList<TraceNode> Nodes { get; }

    public TraceNode? Root => Roots.Count > 0 ? Roots[0] : null;

    public long StartNanos { get; }

    public long EndNanos { get; }

    public long DurationNanos => EndNanos - StartNanos;

    /// <summary>Levels of nesting (1 for a single span).</summary>
    public int MaxDepth { get; }

    public int ErrorCount { get; }

    /// <summary>Services by span count, descending.</summary>
    public IReadOnlyList<ServiceSpanCount> Services { get; } = [];

    public bool IsEmpty => Nodes.Count == 0;

    public TraceNode? Find(SpanId spanId) => _byId.GetValueOrDefault(spanId);

    public static TraceTree Build(IReadOnlyList<Span> spans)
    {
        var byId = new Dictionary<SpanId, TraceNode>(spans.Count);
        foreach (var span in spans)
        {
            byId.TryAdd(span.SpanId, new TraceNode(span, 0));
        }

        var roots = new List<TraceNode>();
        foreach (var node in byId.Values)
        {
            var parentId = node.Span.ParentSpanId;
            if (!parentId.IsEmpty && parentId != node.Span.SpanId && byId.TryGetValue(parentId, out var parent))
            {
                node.Parent = parent;
                parent.Children.Add(node);
            }
            else
            {
                roots.Add(node);
            }
        }

        var order = Comparer<TraceNode>.Create(static (a, b) =>
        {
            var c = a.Span.StartTimeUnixNano.CompareTo(b.Span.StartTimeUnixNano);
            return c != 0 ? c : a.Span.SpanId.Value.CompareTo(b.Span.SpanId.Value);
        });
        roots.Sort(order);
        var nodes = new List<TraceNode>(byId.Count);
        var visited = new HashSet<SpanId>();
        foreach (var root in roots)
        {
            Walk(root, 0, nodes, visited, order);
        }

        // Spans on a parent cycle are reachable from no root: show each cycle from its earliest span.
        foreach (var node in byId.Values.Where(n => !visited.Contains(n.Span.SpanId)).OrderBy(n => n, order).ToList())
        {
            if (visited.Contains(node.Span.SpanId))
            {
                continue;
            }

            node.Parent?.Children.Remove(node);
            node.Parent = null;
            roots.Add(node);
            Walk(node, 0, nodes, visited, order);
        }

        var traceId = spans.Count > 0 ? spans[0].TraceId : default;
        return new TraceTree(traceId, roots, nodes, byId);
    }

    // Iterative so that a 10,000-level chain does not overflow the stack.
    private static void Walk(TraceNode root, int depth, List<TraceNode> nodes, HashSet<SpanId> visited, IComparer<TraceNode> order)
    {
        var stack = new Stack<(TraceNode Node, int Depth, bool Exit)>();
        stack.Push((root, depth, false));
        while (stack.TryPop(out var item))
        {
            if (item.Exit)
            {
                item.Node.SubtreeEnd = nodes.Count - 1;
                continue;
            }

            if (!visited.Add(item.Node.Span.SpanId))
            {
                continue;
            }

            item.Node.Depth = item.Depth;
            item.Node.Index = nodes.Count;
            nodes.Add(item.Node);
            stack.Push((item.Node, item.Depth, true));
            item.Node.Children.RemoveAll(c => visited.Contains(c.Span.SpanId));
            item.Node.Children.Sort(order);
            for (var i = item.Node.Children.Count - 1; i >= 0; i--)
            {
                stack.Push((item.Node.Children[i], item.Depth + 1, false));
            }
        }
    }
}

public readonly record struct ServiceSpanCount(string Service, int Spans, int Errors);
