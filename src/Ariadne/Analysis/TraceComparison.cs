namespace Ariadne.Analysis;

/// <summary>How a node of a comparison differs between trace A and trace B.</summary>
public enum ComparisonChange
{
    Same,
    /// <summary>In both, with a different number of spans.</summary>
    CountChanged,
    /// <summary>Only in A (removed going from A to B).</summary>
    OnlyInA,
    /// <summary>Only in B (added going from A to B).</summary>
    OnlyInB,
}

/// <summary>
/// A node of the merged tree: every span reached by the same path of (service, operation) pairs from the root,
/// in either trace. Durations are summed over the node's spans, so a call made twice counts twice.
/// </summary>
public sealed class ComparisonNode
{
    public required string Service { get; init; }

    public required string Operation { get; init; }

    public int Depth { get; init; }

    public int CountA { get; set; }

    public int CountB { get; set; }

    public long DurationNanosA { get; set; }

    public long DurationNanosB { get; set; }

    public int ErrorsA { get; set; }

    public int ErrorsB { get; set; }

    public List<ComparisonNode> Children { get; } = [];

    /// <summary>B minus A: positive when B is slower.</summary>
    public long DeltaNanos => DurationNanosB - DurationNanosA;

    public ComparisonChange Change => (CountA, CountB) switch
    {
        (0, _) => ComparisonChange.OnlyInB,
        (_, 0) => ComparisonChange.OnlyInA,
        var (a, b) when a != b => ComparisonChange.CountChanged,
        _ => ComparisonChange.Same,
    };
}

public sealed record TraceComparisonResult(TraceTree A, TraceTree B, IReadOnlyList<ComparisonNode> Roots)
{
    /// <summary>The merged tree in depth-first order, for display.</summary>
    public IEnumerable<ComparisonNode> Flatten()
    {
        var stack = new Stack<ComparisonNode>(Roots.Reverse());
        while (stack.TryPop(out var node))
        {
            yield return node;
            for (var i = node.Children.Count - 1; i >= 0; i--)
            {
                stack.Push(node.Children[i]);
            }
        }
    }
}

/// <summary>
/// Merges two traces into one tree keyed by the service+operation path, like Jaeger UI's trace diff, and adds what
/// Jaeger's lacks: the latency of every node in both traces and the difference.
/// </summary>
public static class TraceComparison
{
    public static TraceComparisonResult Compare(TraceTree a, TraceTree b)
    {
        var roots = new List<ComparisonNode>();
        Merge(roots, a.Roots, b.Roots, 0);
        return new TraceComparisonResult(a, b, roots);
    }

    private static void Merge(List<ComparisonNode> into, IEnumerable<TraceNode> fromA, IEnumerable<TraceNode> fromB, int depth)
    {
        var groups = new Dictionary<(string Service, string Operation), (ComparisonNode Node, List<TraceNode> A, List<TraceNode> B)>();
        void AddSide(IEnumerable<TraceNode> spans, bool isA)
        {
            foreach (var span in spans)
            {
                var key = (span.Span.ServiceName, span.Span.Name);
                if (!groups.TryGetValue(key, out var group))
                {
                    group = (new ComparisonNode { Service = key.ServiceName, Operation = key.Name, Depth = depth }, [], []);
                    groups.Add(key, group);
                    into.Add(group.Node);
                }

                (isA ? group.A : group.B).Add(span);
                if (isA)
                {
                    group.Node.CountA++;
                    group.Node.DurationNanosA += span.Span.DurationNanos;
                    group.Node.ErrorsA += span.Span.IsError ? 1 : 0;
                }
                else
                {
                    group.Node.CountB++;
                    group.Node.DurationNanosB += span.Span.DurationNanos;
                    group.Node.ErrorsB += span.Span.IsError ? 1 : 0;
                }
            }
        }

        AddSide(fromA, isA: true);
        AddSide(fromB, isA: false);
        foreach (var (node, spansA, spansB) in groups.Values)
        {
            Merge(node.Children, spansA.SelectMany(s => s.Children), spansB.SelectMany(s => s.Children), depth + 1);
        }
    }
}
