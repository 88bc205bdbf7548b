using Ariadne.Model;

namespace Ariadne.Analysis;

/// <summary>
/// "Find in trace", as the Jaeger UI's trace search box does it: the query is split at spaces, and a span matches
/// when every word appears (ignoring case) in its service, its operation, its span id, its status message, one of
/// its attributes or its resource's written as <c>key=value</c>, or one of its events' names or attributes.
/// </summary>
public static class SpanFinder
{
    /// <summary>Positions in <see cref="TraceTree.Nodes"/> of the matching spans, in tree order; none for a blank query.</summary>
    public static IReadOnlyList<int> Find(TraceTree tree, string? query)
    {
        var words = (query ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0)
        {
            return [];
        }

        var matches = new List<int>();
        foreach (var node in tree.Nodes)
        {
            if (words.All(word => Contains(node.Span, word)))
            {
                matches.Add(node.Index);
            }
        }

        return matches;
    }

    private static bool Contains(Span span, string word) =>
        Has(span.ServiceName, word) || Has(span.Name, word) || Has(span.SpanId.ToHex(), word) || Has(span.StatusMessage, word)
        || Has(span.Attributes, word) || Has(span.Resource.Attributes, word)
        || span.Events.Any(e => Has(e.Name, word) || Has(e.Attributes, word));

    private static bool Has(KeyValue[] attributes, string word) =>
        attributes.Any(a => Has($"{a.Key}={a.Value}", word));

    private static bool Has(string text, string word) => text.Contains(word, StringComparison.OrdinalIgnoreCase);
}
