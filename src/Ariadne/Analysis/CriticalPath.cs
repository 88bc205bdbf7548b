using Ariadne.Model;

namespace Ariadne.Analysis;

/// <summary>
/// A stretch of one span's time that lies on the critical path. It names the tree node, not only the span id: the
/// client and server halves of a Zipkin shared span have one id but are two rows with their own sections.
/// </summary>
public readonly record struct CriticalPathSection(TraceNode Node, long StartNanos, long EndNanos)
{
    public SpanId SpanId => Node.Span.SpanId;
}

/// <summary>
/// The chain of work that determined a trace's end-to-end latency, by Jaeger UI's algorithm
/// (jaeger-ui: components/TracePage/CriticalPath): start at the root's end, step into the last-finishing child
/// (LFC), and when a span has no child that finished before the current point, the span itself was working from
/// its start; then return to the parent at that start and look for the child that finished last before it.
/// Children are first clipped to their parent's time range and dropped when entirely outside it, because a
/// child running after its parent returned (fire-and-forget) cannot have delayed the parent.
/// </summary>
public static class CriticalPath
{
    /// <summary>Sections from the root's end backwards; empty for an empty trace.</summary>
    public static IReadOnlyList<CriticalPathSection> Compute(TraceTree tree)
    {
        if (tree.Root is not { } root)
        {
            return [];
        }

        var clipped = Clip(root);
        var sections = new List<CriticalPathSection>();
        var current = root;
        long? spawn = null;
        while (true)
        {
            var (start, end) = clipped[current];
            var lfc = LastFinishingChild(current, clipped, spawn);
            var sectionEnd = spawn ?? end;
            if (lfc is not null)
            {
                Add(sections, current, clipped[lfc].End, sectionEnd);
                current = lfc;
                spawn = null;
                continue;
            }

            Add(sections, current, start, sectionEnd);
            if (current == root || current.Parent is null)
            {
                break;
            }

            spawn = start;
            current = current.Parent;
        }

        return sections;
    }

    private static void Add(List<CriticalPathSection> sections, TraceNode node, long start, long end)
    {
        if (start != end)
        {
            sections.Add(new CriticalPathSection(node, start, end));
        }
    }

    private static TraceNode? LastFinishingChild(TraceNode node, Dictionary<TraceNode, (long Start, long End)> clipped, long? before)
    {
        TraceNode? best = null;
        var bestEnd = long.MinValue;
        foreach (var child in node.Children)
        {
            if (!clipped.TryGetValue(child, out var range) || (before is { } limit && range.End >= limit))
            {
                continue;
            }

            if (range.End > bestEnd)
            {
                bestEnd = range.End;
                best = child;
            }
        }

        return best;
    }

    /// <summary>Each span's range clipped to its (already clipped) parent; spans outside their parent are left out.</summary>
    private static Dictionary<TraceNode, (long Start, long End)> Clip(TraceNode root)
    {
        var result = new Dictionary<TraceNode, (long, long)> { [root] = (root.Span.StartTimeUnixNano, Math.Max(root.Span.StartTimeUnixNano, root.Span.EndTimeUnixNano)) };
        var stack = new Stack<TraceNode>();
        stack.Push(root);
        while (stack.TryPop(out var parent))
        {
            var (parentStart, parentEnd) = result[parent];
            foreach (var child in parent.Children)
            {
                var start = Math.Max(child.Span.StartTimeUnixNano, parentStart);
                var end = Math.Min(child.Span.EndTimeUnixNano, parentEnd);
                var outside = child.Span.StartTimeUnixNano >= parentEnd || child.Span.EndTimeUnixNano <= parentStart;
                if (outside || end < start)
                {
                    continue;
                }

                result[child] = (start, end);
                stack.Push(child);
            }
        }

        return result;
    }
}
