using Ariadne.Model;

namespace Ariadne.Analysis;

/// <summary>What a search result shows about a trace.</summary>
public sealed record TraceSummary(
    TraceId TraceId,
    string RootService,
    string RootOperation,
    long StartNanos,
    long DurationNanos,
    int SpanCount,
    int ErrorCount,
    IReadOnlyList<ServiceSpanCount> Services)
{
    public static TraceSummary From(TraceTree tree)
    {
        var root = tree.Root?.Span;
        return new TraceSummary(
            tree.TraceId,
            root?.ServiceName ?? string.Empty,
            root?.Name ?? string.Empty,
            tree.StartNanos,
            tree.DurationNanos,
            tree.Nodes.Count,
            tree.ErrorCount,
            tree.Services);
    }
}
