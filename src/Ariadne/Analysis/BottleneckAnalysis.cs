using Ariadne.Model;

namespace Ariadne.Analysis;

/// <summary>Which traces a bottleneck analysis sets apart from the rest.</summary>
public enum BottleneckSelection
{
    /// <summary>Traces whose span of the operation took longer than the threshold.</summary>
    Slow,

    /// <summary>Traces with an error at or below the operation's span.</summary>
    Errors,
}

/// <summary>One value of an attribute: in how many selected and baseline traces it occurs.</summary>
public sealed record AttributeValueShare(string Value, int Selected, int Baseline, double SelectedShare, double BaselineShare)
{
    /// <summary>Positive when the value is over-represented in the selection.</summary>
    public double Difference => SelectedShare - BaselineShare;
}

/// <summary>An attribute key, its values ranked by difference, and its score (the largest over-representation).</summary>
public sealed record AttributeBreakdown(string Key, double Score, IReadOnlyList<AttributeValueShare> Values);

/// <summary>
/// How much of the operation's critical path one service/operation worked on its own (self time on the path):
/// on average per selected trace and per baseline trace, and as a share of the selected traces' critical paths.
/// </summary>
public sealed record LatencyContributor(string Service, string Operation, long SelectedMeanNanos, long BaselineMeanNanos, double SelectedShare)
{
    public long ExcessNanos => SelectedMeanNanos - BaselineMeanNanos;
}

public sealed record BottleneckReport(
    string Service,
    string? Operation,
    BottleneckSelection Selection,
    long StartNanos,
    long EndNanos,
    long ThresholdNanos,
    int TracesExamined,
    bool Truncated,
    int SelectedCount,
    int BaselineCount,
    IReadOnlyList<AttributeBreakdown> Attributes,
    IReadOnlyList<LatencyContributor> Contributors);

/// <summary>
/// BubbleUp-style comparison (Honeycomb): the traces through a service/operation are split into a selection (slow:
/// the operation's span over a threshold, by default the range's p90; or errors) and a baseline (the rest). For every
/// attribute key seen on the operation's span or below it (span and resource attributes, so business keys such as
/// customer.tier, payment.method, http.route, db.system and host.name are all covered), each value's share of the
/// selected traces is set against its share of the baseline; keys are ranked by their most over-represented value.
/// A trace counts once per value however many of its spans carry it. The critical path below the operation's span
/// says which downstream service/operation did the waiting, as self time on that path.
/// </summary>
public static class BottleneckAnalysis
{
    /// <summary>Values kept per key in a report; the rest differ least and would only lengthen it.</summary>
    public const int ValuesPerKey = 10;

    /// <summary>A key with more distinct values than this and than half the traces is taken for an id and left out.</summary>
    public const int MaxIdLikeValues = 20;

    public static BottleneckReport Compute(
        string service,
        string? operation,
        IReadOnlyList<IReadOnlyList<Span>> traces,
        long startNanos,
        long endNanos,
        BottleneckSelection selection,
        TimeSpan? threshold,
        bool truncated)
    {
        var subjects = new List<(TraceNode Anchor, List<Span> Subtree)>();
        foreach (var spans in traces)
        {
            var tree = TraceTree.Build(spans);
            var anchor = tree.Nodes
                .Where(n => string.Equals(n.Span.ServiceName, service, StringComparison.Ordinal)
                    && (operation is null || string.Equals(n.Span.Name, operation, StringComparison.Ordinal))
                    && n.Span.StartTimeUnixNano >= startNanos && n.Span.StartTimeUnixNano <= endNanos)
                .OrderBy(n => n.Depth).ThenByDescending(n => n.Span.DurationNanos)
                .FirstOrDefault();
            if (anchor is not null)
            {
                subjects.Add((anchor, Subtree(anchor)));
            }
        }

        var durations = subjects.Select(s => s.Anchor.Span.DurationNanos).Order().ToArray();
        var thresholdNanos = threshold is { } t ? t.Ticks * 100 : OperationStatsCalculator.Percentile(durations, 0.90);
        var selected = new List<List<Span>>();
        var baseline = new List<List<Span>>();
        foreach (var (anchor, subtree) in subjects)
        {
            var inSelection = selection == BottleneckSelection.Slow
                ? anchor.Span.DurationNanos > thresholdNanos
                : subtree.Any(s => s.IsError);
            (inSelection ? selected : baseline).Add(subtree);
        }

        return new BottleneckReport(
            service, operation, selection, startNanos, endNanos, thresholdNanos, subjects.Count, truncated,
            selected.Count, baseline.Count, CompareAttributes(selected, baseline), Contributors(selected, baseline));
    }

    private static List<Span> Subtree(TraceNode anchor)
    {
        var spans = new List<Span>();
        var stack = new Stack<TraceNode>();
        stack.Push(anchor);
        while (stack.TryPop(out var node))
        {
            spans.Add(node.Span);
            foreach (var child in node.Children)
            {
                stack.Push(child);
            }
        }

        return spans;
    }

    private static List<AttributeBreakdown> CompareAttributes(List<List<Span>> selected, List<List<Span>> baseline)
    {
        var selectedCounts = CountValues(selected);
        var baselineCounts = CountValues(baseline);
        var keys = selectedCounts.Keys.Union(baselineCounts.Keys, StringComparer.Ordinal);
        var result = new List<AttributeBreakdown>();
        foreach (var key in keys)
        {
            var inSelected = selectedCounts.GetValueOrDefault(key) ?? [];
            var inBaseline = baselineCounts.GetValueOrDefault(key) ?? [];
            var distinct = inSelected.Keys.Union(inBaseline.Keys, StringComparer.Ordinal).ToList();
            // An id per trace (order.id, request ids) is always "over-represented" by one trace: it explains nothing.
            if (distinct.Count > Math.Max(MaxIdLikeValues, (selected.Count + baseline.Count) / 2))
            {
                continue;
            }

            var values = distinct
                .Select(value =>
                {
                    var s = inSelected.GetValueOrDefault(value);
                    var b = inBaseline.GetValueOrDefault(value);
                    return new AttributeValueShare(value, s, b, Share(s, selected.Count), Share(b, baseline.Count));
                })
                .OrderByDescending(v => v.Difference).ThenByDescending(v => v.Selected).ThenBy(v => v.Value, StringComparer.Ordinal)
                .Take(ValuesPerKey)
                .ToList();
            result.Add(new AttributeBreakdown(key, values.Count == 0 ? 0 : Math.Max(0, values[0].Difference), values));
        }

        return result.OrderByDescending(a => a.Score).ThenBy(a => a.Key, StringComparer.Ordinal).ToList();
    }

    private static double Share(int count, int total) => total == 0 ? 0 : (double)count / total;

    /// <summary>key → value → number of traces that carry it.</summary>
    private static Dictionary<string, Dictionary<string, int>> CountValues(List<List<Span>> traces)
    {
        var counts = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        var seen = new HashSet<(string, string)>();
        var resources = new HashSet<Resource>(ReferenceEqualityComparer.Instance);
        foreach (var spans in traces)
        {
            seen.Clear();
            resources.Clear();
            foreach (var span in spans)
            {
                Collect(span.Attributes, seen);
                if (resources.Add(span.Resource))
                {
                    Collect(span.Resource.Attributes, seen);
                }
            }

            foreach (var (key, value) in seen)
            {
                if (!counts.TryGetValue(key, out var values))
                {
                    counts[key] = values = new Dictionary<string, int>(StringComparer.Ordinal);
                }

                values[value] = values.GetValueOrDefault(value) + 1;
            }
        }

        return counts;
    }

    private static void Collect(KeyValue[] attributes, HashSet<(string, string)> seen)
    {
        foreach (var kv in attributes)
        {
            // service.name is what the analysis is scoped by; it never separates anything.
            if (!string.Equals(kv.Key, "service.name", StringComparison.Ordinal))
            {
                seen.Add((kv.Key, kv.Value.ToString()));
            }
        }
    }

    private static List<LatencyContributor> Contributors(List<List<Span>> selected, List<List<Span>> baseline)
    {
        var selectedTimes = SelfTimeOnCriticalPath(selected, out var selectedTotal);
        var baselineTimes = SelfTimeOnCriticalPath(baseline, out _);
        return selectedTimes.Keys.Union(baselineTimes.Keys)
            .Select(k => new LatencyContributor(
                k.Service,
                k.Operation,
                selected.Count == 0 ? 0 : selectedTimes.GetValueOrDefault(k) / selected.Count,
                baseline.Count == 0 ? 0 : baselineTimes.GetValueOrDefault(k) / baseline.Count,
                selectedTotal == 0 ? 0 : (double)selectedTimes.GetValueOrDefault(k) / selectedTotal))
            .OrderByDescending(c => c.SelectedShare).ThenByDescending(c => c.ExcessNanos)
            .ThenBy(c => c.Service, StringComparer.Ordinal).ThenBy(c => c.Operation, StringComparer.Ordinal)
            .ToList();
    }

    private static Dictionary<(string Service, string Operation), long> SelfTimeOnCriticalPath(List<List<Span>> traces, out long total)
    {
        var times = new Dictionary<(string, string), long>();
        total = 0;
        foreach (var spans in traces)
        {
            // The operation's span has no parent among its subtree's spans, so it is the tree's root.
            var tree = TraceTree.Build(spans);
            foreach (var section in CriticalPath.Compute(tree))
            {
                var key = (section.Node.Span.ServiceName, section.Node.Span.Name);
                var length = section.EndNanos - section.StartNanos;
                times[key] = times.GetValueOrDefault(key) + length;
                total += length;
            }
        }

        return times;
    }
}
