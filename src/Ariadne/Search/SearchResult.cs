using Ariadne.Analysis;
using Ariadne.Model;
using Ariadne.Storage;

namespace Ariadne.Search;

/// <summary>A trace that matched a query, with the spans the query selected in it.</summary>
public sealed record SearchHit(TraceSummary Trace, IReadOnlyList<Model.SpanId> MatchedSpans);

/// <param name="CandidatesExamined">Traces the store returned for the pushed-down predicates.</param>
/// <param name="Truncated">The store returned as many candidates as asked for: older matches may be missing.</param>
public sealed record SearchResult(IReadOnlyList<SearchHit> Hits, int CandidatesExamined, bool Truncated, TraceQuery PushedDown);

/// <summary>
/// Runs Ariadne search queries: the store finds candidate traces by the predicates it understands (service, operation,
/// duration, string tag equality: <see cref="SearchQuery.PushDown"/>), then the whole expression is evaluated per trace.
/// </summary>
public sealed class TraceSearchService(ISpanStore store)
{
    /// <summary>Candidates read per query at most; a query that needs more says so (<see cref="SearchResult.Truncated"/>).</summary>
    public const int CandidateLimit = 5000;

    public async Task<SearchResult> SearchAsync(string tenant, SearchQuery query, DateTimeOffset start, DateTimeOffset end, int limit, CancellationToken cancellationToken)
    {
        var pushed = query.PushDown(start, end, CandidateLimit);
        var candidates = await store.FindTracesAsync(tenant, pushed, cancellationToken);
        var hits = new List<SearchHit>();
        foreach (var spans in candidates)
        {
            var tree = TraceTree.Build(spans);
            var matched = query.Match(tree);
            if (matched.Count == 0)
            {
                continue;
            }

            hits.Add(new SearchHit(TraceSummary.From(tree), matched.OrderBy(n => n.Index).Select(n => n.Span.SpanId).ToList()));
            if (hits.Count == limit)
            {
                break;
            }
        }

        // The store returns the latest candidates first, so a full page of hits is the latest matches either way.
        return new SearchResult(hits, candidates.Count, candidates.Count >= CandidateLimit && hits.Count < limit, pushed);
    }
}
