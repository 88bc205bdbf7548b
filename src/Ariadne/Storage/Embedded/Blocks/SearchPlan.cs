using Ariadne.Model;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>A <see cref="TraceQuery"/> prepared once for every block it runs against: bounds in nanoseconds, names as UTF-8, tag filter hashes.</summary>
public sealed class SearchPlan
{
    public SearchPlan(TraceQuery query)
    {
        Query = query;
        FromNanos = EmbeddedSpanStore.ToNanos(query.StartTimeMin);
        ToNanos = EmbeddedSpanStore.ToNanos(query.StartTimeMax);
        MinDuration = query.MinDuration is { } min ? min.Ticks * 100 : long.MinValue;
        MaxDuration = query.MaxDuration is { } max ? max.Ticks * 100 : long.MaxValue;
        Service = query.ServiceName is { Length: > 0 } service ? System.Text.Encoding.UTF8.GetBytes(service) : null;
        Operation = query.OperationName is { Length: > 0 } operation ? System.Text.Encoding.UTF8.GetBytes(operation) : null;
        var attributeTags = query.Tags.Select(t => (Key: SpanMatcher.RequiredAttributeKey(t.Key), t.Value)).Where(t => t.Key is not null).ToList();
        TagKeys = attributeTags.Select(t => System.Text.Encoding.UTF8.GetBytes(t.Key!)).ToArray();
        TagHashes = attributeTags.Select(t => TagFilters.Hash(t.Key!, t.Value)).ToArray();
    }

    public TraceQuery Query { get; }

    public long FromNanos { get; }

    public long ToNanos { get; }

    public long MinDuration { get; }

    public long MaxDuration { get; }

    public byte[]? Service { get; }

    public byte[]? Operation { get; }

    /// <summary>Attribute keys a matching span must carry (tags on span fields such as <c>error</c> have none).</summary>
    public byte[][] TagKeys { get; }

    /// <summary><see cref="TagFilters.Hash"/> of each (attribute key, value) the query requires.</summary>
    public ulong[] TagHashes { get; }
}
