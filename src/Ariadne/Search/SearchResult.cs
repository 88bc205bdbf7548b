using Ariadne.Analysis;
using Ariadne.Model;

namespace Ariadne.Search;

/// <summary>A trace that matched a query, with the spans the query selected in it.</summary>
public sealed record SearchHit(TraceSummary Trace, IReadOnlyList<SpanId> MatchedSpans);

/// <param name="CandidatesExamined">Traces the store returned for the pushed-down predicates.</param>
/// <param name="Truncated">The store returned as many candidates as asked for: older matches may be missing.</param>
public sealed record SearchResult(IReadOnlyList<SearchHit> Hits, int CandidatesExamined, bool Truncated, TraceQuery PushedDown);
