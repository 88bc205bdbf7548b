using Ariadne.Model;

namespace Ariadne.Storage.Embedded;

/// <summary>
/// Recent spans in memory, grouped by tenant and trace, as they were appended to the WAL. Mutated only under the
/// store's ingest lock; once cut it is frozen and read without locks until its blocks are written.
/// </summary>
internal sealed class Head(long openedAtTimestamp)
{
    public Dictionary<string, TenantHead> Tenants { get; } = new(StringComparer.Ordinal);

    public int SpanCount { get; private set; }

    /// <summary>When the first span arrived (TimeProvider timestamp), for cutting by age.</summary>
    public long OpenedAtTimestamp { get; private set; } = openedAtTimestamp;

    public void Add(string tenant, IReadOnlyList<Span> spans, long nowTimestamp)
    {
        if (SpanCount == 0)
        {
            OpenedAtTimestamp = nowTimestamp;
        }

        if (!Tenants.TryGetValue(tenant, out var head))
        {
            head = new TenantHead();
            Tenants.Add(tenant, head);
        }

        head.Add(spans);
        SpanCount += spans.Count;
    }
}

internal sealed class TenantHead
{
    public Dictionary<TraceId, List<Span>> Traces { get; } = [];

    public Dictionary<string, HashSet<OperationInfo>> Operations { get; } = new(StringComparer.Ordinal);

    public long SpanCount { get; private set; }

    public void Add(IReadOnlyList<Span> spans)
    {
        SpanCount += spans.Count;
        foreach (var span in spans)
        {
            if (!Traces.TryGetValue(span.TraceId, out var trace))
            {
                trace = new List<Span>(4);
                Traces.Add(span.TraceId, trace);
            }

            trace.Add(span);
            if (!Operations.TryGetValue(span.ServiceName, out var operations))
            {
                operations = [];
                Operations.Add(span.ServiceName, operations);
            }

            operations.Add(new OperationInfo(span.Name, span.Kind));
        }
    }
}
