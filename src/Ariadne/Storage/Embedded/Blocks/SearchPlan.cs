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
        TagTerms = query.Tags.Select(t => IndexTerm.Of(t.Key, t.Value)).ToArray();
        UsesIndex = Service is not null || Operation is not null || TagTerms.Any(t => t is not null);
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

    /// <summary>Per tag filter, how the search index (index.bin) looks it up; null for a tag it cannot answer (span fields such as <c>span.kind</c>).</summary>
    public IndexTerm?[] TagTerms { get; }

    /// <summary>True when the query has something the search index can look up (else only the row groups' statistics prune).</summary>
    public bool UsesIndex { get; }
}

/// <summary>
/// A tag filter as the search index answers it: <c>error=true</c> by its error rows, an attribute by its key's
/// value rows. <see cref="Exact"/> when those rows are exactly the matching ones (not for <c>resource.key</c>, whose
/// index rows also count the key in other attribute lists).
/// </summary>
public sealed record IndexTerm(string? AttributeKey, ulong Hash, bool Exact)
{
    public bool IsError => AttributeKey is null;

    public static IndexTerm? Of(string key, string value)
    {
        if (key == "error" && value == "true")
        {
            return new IndexTerm(null, 0, Exact: true);
        }

        return SpanMatcher.RequiredAttributeKey(key) is { } attribute
            ? new IndexTerm(attribute, TagFilters.Hash(attribute, value), Exact: attribute.Length == key.Length)
            : null;
    }
}
