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

    /// <summary>
    /// Builds the tree. A resent copy of a span (same id, same kind) is shown once. Zipkin's shared spans, where
    /// the client and the server half of one RPC carry one span id, are both shown, the server half under the
    /// client half, with the spans whose parent is the shared id under the server half (Jaeger's span-id
    /// deduplication does the same).
    /// </summary>
    public static TraceTree Build(IReadOnlyList<Span> spans)
    {
        var byId = new Dictionary<SpanId, TraceNode>(spans.Count);
        Dictionary<SpanId, TraceNode>? clientHalves = null;
        foreach (var span in spans)
        {
            var node = new TraceNode(span, 0);
            if (!byId.TryGetValue(span.SpanId, out var other))
            {
                byId.Add(span.SpanId, node);
            }
            else if (SharedSpanHalves(other, node) is var (client, server) && clientHalves?.ContainsKey(span.SpanId) != true)
            {
                byId[span.SpanId] = server;
                (clientHalves ??= [])[span.SpanId] = client;
            }
        }

        var all = clientHalves is null ? byId.Values.ToList() : [.. byId.Values, .. clientHalves.Values];
        var roots = new List<TraceNode>();
        foreach (var node in all)
        {
            var parentId = node.Span.ParentSpanId;
            TraceNode? parent = null;
            if (clientHalves is not null && clientHalves.TryGetValue(node.Span.SpanId, out var client) && client != node)
            {
                parent = client;
            }
            else if (!parentId.IsEmpty && parentId != node.Span.SpanId)
            {
                parent = byId.GetValueOrDefault(parentId);
            }

            if (parent is not null)
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
        var nodes = new List<TraceNode>(all.Count);
        var visited = new HashSet<TraceNode>(ReferenceEqualityComparer.Instance);
        foreach (var root in roots)
        {
            Walk(root, 0, nodes, visited, order);
        }

        // Spans on a parent cycle are reachable from no root: show each cycle from its earliest span.
        foreach (var node in all.Where(n => !visited.Contains(n)).OrderBy(n => n, order).ToList())
        {
            if (visited.Contains(node))
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
    /// <summary>The client and server halves of a Zipkin shared span, or null when the two are not such a pair.</summary>
    private static (TraceNode Client, TraceNode Server)? SharedSpanHalves(TraceNode first, TraceNode second) =>
        (first.Span.Kind, second.Span.Kind) switch
        {
            (SpanKind.Client, SpanKind.Server) => (first, second),
            (SpanKind.Server, SpanKind.Client) => (second, first),
            _ => null,
        };

    private static void Walk(TraceNode root, int depth, List<TraceNode> nodes, HashSet<TraceNode> visited, IComparer<TraceNode> order)
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

            if (!visited.Add(item.Node))
            {
                continue;
            }

            item.Node.Depth = item.Depth;
            item.Node.Index = nodes.Count;
            nodes.Add(item.Node);
            stack.Push((item.Node, item.Depth, true));
            item.Node.Children.RemoveAll(visited.Contains);
            item.Node.Children.Sort(order);
            for (var i = item.Node.Children.Count - 1; i >= 0; i--)
            {
                stack.Push((item.Node.Children[i], item.Depth + 1, false));
            }
        }
    }
}

public readonly record struct ServiceSpanCount(string Service, int Spans, int Errors);
