using Ariadne.Model;

namespace Ariadne.Sampling.Tail;

/// <summary>A policy's verdict, as in the OTel Collector's tail_sampling processor (invert_match has its own two).</summary>
public enum PolicyDecision
{
    NotSampled,
    Sampled,

    /// <summary>An inverted match that did not match: keeps the trace unless another policy vetoes.</summary>
    InvertSampled,

    /// <summary>An inverted match that matched: drops the trace whatever other policies say.</summary>
    InvertNotSampled,
}

/// <summary>A complete (as far as the decision wait saw) trace handed to the policies.</summary>
public sealed class TraceView(string tenant, TraceId traceId, List<Span> spans)
{
    private Span? _root;

    public string Tenant { get; } = tenant;

    public TraceId TraceId { get; } = traceId;

    public List<Span> Spans { get; } = spans;

    /// <summary>The root span, or the earliest span when the root has not arrived.</summary>
    public Span Root => _root ??= FindRoot();

    private Span FindRoot()
    {
        var root = Spans[0];
        foreach (var span in Spans)
        {
            if (span.IsRoot)
            {
                return span;
            }

            if (span.StartTimeUnixNano < root.StartTimeUnixNano)
            {
                root = span;
            }
        }

        return root;
    }
}

/// <summary>One configured policy.</summary>
public abstract class TailPolicy(string name)
{
    public string Name { get; } = name;

    public abstract PolicyDecision Evaluate(TraceView trace);
}
