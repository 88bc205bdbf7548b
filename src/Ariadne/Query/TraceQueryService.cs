using Ariadne.Analysis;
using Ariadne.Model;
using Ariadne.Query.Regions;
using Ariadne.Sampling.Tail;
using Ariadne.Search;
using Ariadne.Storage;

namespace Ariadne.Query;

/// <summary>A trace as the trace view shows it: its spans as a tree, its log records, and what tail sampling did with it.</summary>
/// <param name="Tree">Null when no span of the trace is stored.</param>
/// <param name="Logs">The trace's log records, oldest first; read only when the trace is stored.</param>
/// <param name="Sampling">What tail sampling did with the trace, as far as it remembers: why a trace is missing.</param>
/// <param name="RegionWarnings">The regions that did not answer (<see cref="RegionReadScope.Warnings"/>): the tree may be partial.</param>
public sealed record TraceView(TraceId TraceId, TraceTree? Tree, IReadOnlyList<LogRecord> Logs, TailOutcome Sampling, IReadOnlyList<string> RegionWarnings);

/// <summary>A trace a query matched, whole, with the spans it selected (in tree order).</summary>
public sealed record TraceMatch(TraceTree Tree, IReadOnlyList<TraceNode> Matched);

/// <param name="TracesExamined">Candidate traces the store returned for the pushed-down predicates.</param>
/// <param name="SpansExamined">Spans of the candidates read before the limit was reached.</param>
/// <param name="Truncated">The store returned as many candidates as asked for and the limit was not reached: older matches may be missing.</param>
public sealed record TraceMatches(IReadOnlyList<TraceMatch> Traces, int TracesExamined, int SpansExamined, bool Truncated);

/// <summary>Two traces and their structural comparison; <see cref="Missing"/> names the first that is not stored.</summary>
public sealed record TracePair(TraceId IdA, TraceTree? A, TraceId IdB, TraceTree? B)
{
    public TraceId? Missing => A is null ? IdA : B is null ? IdB : null;

    public TraceComparisonResult? Comparison { get; } = A is null || B is null ? null : TraceComparison.Compare(A, B);
}

/// <summary>
/// The one front door for reads: the Jaeger API, Ariadne's API and every UI page read through it, and nothing else
/// on the read side touches the span store, the log store or the tail sampler. It composes storage with the log
/// store, the sampler's outcome and the pre-sampling aggregates (<see cref="PreSamplingFigures"/>), and it owns the
/// limits of what one read may cost: how many traces an analysis or an Ariadne search examines, and how many results
/// one page shows. Tenancy is the caller's: every call names the tenant it reads for. Traces by id and Jaeger-style
/// searches read every region (<see cref="RegionFederation"/>); analyses and Ariadne searches read this region.
/// </summary>
public sealed class TraceQueryService(ISpanStore spans, RegionFederation regions, ILogStore logs, TailSampler sampler, PreSamplingFigures preSampling, TimeProvider time)
{
    /// <summary>Traces an overview, a bottleneck analysis, a typical-trace lookup or an Ariadne search reads at most.</summary>
    public const int SampleLimit = 5000;

    /// <summary>Results of an Ariadne search (UI or <c>/api/ariadne/search</c>) when the caller names no limit.</summary>
    public const int DefaultResults = 20;

    /// <summary>Results one Ariadne search returns at most.</summary>
    public const int MaxResults = 1500;

    /// <summary>A requested result count as an Ariadne search honours it: the default when unset or not positive, at most <see cref="MaxResults"/>.</summary>
    public static int ResultLimit(int? requested) => requested is > 0 ? Math.Min(requested.Value, MaxResults) : DefaultResults;

    public static long ToNanos(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks * 100;

    /// <summary>The stored spans of a trace, unordered; empty when none is stored.</summary>
    public async Task<IReadOnlyList<Span>> GetSpansAsync(string tenant, TraceId traceId, CancellationToken cancellationToken) =>
        await regions.GetTraceAsync(tenant, traceId, cancellationToken);

    /// <summary>The stored traces among <paramref name="traceIds"/>, in that order; ids with no stored span are left out.</summary>
    public async Task<IReadOnlyList<IReadOnlyList<Span>>> GetTracesAsync(string tenant, IEnumerable<TraceId> traceIds, CancellationToken cancellationToken)
    {
        var traces = new List<IReadOnlyList<Span>>();
        foreach (var traceId in traceIds)
        {
            var trace = await regions.GetTraceAsync(tenant, traceId, cancellationToken);
            if (trace.Count > 0)
            {
                traces.Add(trace);
            }
        }

        return traces;
    }

    public async Task<TraceTree?> GetTreeAsync(string tenant, TraceId traceId, CancellationToken cancellationToken)
    {
        var trace = await regions.GetTraceAsync(tenant, traceId, cancellationToken);
        return trace.Count == 0 ? null : TraceTree.Build(trace);
    }

    /// <summary>What the trace view shows: the tree, the trace's log records, and the sampler's word on a trace that is not stored.</summary>
    public async Task<TraceView> GetTraceViewAsync(string tenant, TraceId traceId, CancellationToken cancellationToken)
    {
        // The outcome is read before storage, in the order a kept trace moves (held, kept, stored): a trace that is
        // not stored yet is then reported held or kept, never unknown because it was stored and its decision
        // forgotten between the two reads.
        var outcome = sampler.OutcomeOf(tenant, traceId);
        using var regionRead = RegionReadScope.Begin(localOnly: RegionReadScope.Current?.LocalOnly == true);
        var tree = await GetTreeAsync(tenant, traceId, cancellationToken);
        var records = tree is null ? [] : await logs.GetTraceLogsAsync(tenant, traceId, cancellationToken);
        return new TraceView(traceId, tree, records, outcome, regionRead.Warnings);
    }

    /// <summary>The log records of a trace, oldest first (empty when none).</summary>
    public async Task<IReadOnlyList<LogRecord>> GetLogsAsync(string tenant, TraceId traceId, CancellationToken cancellationToken) =>
        await logs.GetTraceLogsAsync(tenant, traceId, cancellationToken);

    /// <summary>Both traces, read at once, and their comparison when both are stored.</summary>
    public async Task<TracePair> CompareAsync(string tenant, TraceId a, TraceId b, CancellationToken cancellationToken)
    {
        var treeA = GetTreeAsync(tenant, a, cancellationToken);
        var treeB = GetTreeAsync(tenant, b, cancellationToken);
        return new TracePair(a, await treeA, b, await treeB);
    }

    /// <summary>Service names, sorted ordinally.</summary>
    public async Task<IReadOnlyList<string>> GetServicesAsync(string tenant, CancellationToken cancellationToken) =>
        await spans.GetServicesAsync(tenant, cancellationToken);

    /// <summary>Operations of a service, optionally of one span kind, sorted by name then kind.</summary>
    public async Task<IReadOnlyList<OperationInfo>> GetOperationsAsync(string tenant, string service, SpanKind? kind, CancellationToken cancellationToken) =>
        await spans.GetOperationsAsync(tenant, service, kind, cancellationToken);

    /// <summary>The distinct operation names of a service over all span kinds, sorted; empty for no service.</summary>
    public async Task<IReadOnlyList<string>> GetOperationNamesAsync(string tenant, string service, CancellationToken cancellationToken) =>
        service.Length == 0 ? [] : (await spans.GetOperationsAsync(tenant, service, null, cancellationToken)).Select(o => o.Name).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Whole traces matching a Jaeger-style query, latest first, at most <see cref="TraceQuery.Limit"/>.</summary>
    public async Task<IReadOnlyList<IReadOnlyList<Span>>> FindTracesAsync(string tenant, TraceQuery query, CancellationToken cancellationToken) =>
        await regions.FindTracesAsync(tenant, query, cancellationToken);

    /// <summary>The UI's form search: summaries of the traces a Jaeger-style query finds.</summary>
    public async Task<IReadOnlyList<TraceSummary>> SearchAsync(string tenant, TraceQuery query, CancellationToken cancellationToken)
    {
        var traces = await regions.FindTracesAsync(tenant, query with { Limit = Math.Min(query.Limit, MaxResults) }, cancellationToken);
        return traces.Select(t => TraceSummary.From(TraceTree.Build(t))).ToList();
    }

    /// <summary>
    /// An Ariadne search: the store finds candidate traces by the predicates it understands
    /// (<see cref="SearchQuery.PushDown"/>), at most <see cref="SampleLimit"/>, then the whole expression is evaluated
    /// per trace. At most <paramref name="limit"/> hits (<see cref="ResultLimit"/>).
    /// </summary>
    public async Task<SearchResult> SearchAsync(string tenant, SearchQuery query, DateTimeOffset start, DateTimeOffset end, int limit, CancellationToken cancellationToken)
    {
        limit = ResultLimit(limit);
        var pushed = query.PushDown(start, end, SampleLimit);
        var candidates = await spans.FindTracesAsync(tenant, pushed, cancellationToken);
        var hits = query.Hits(candidates, limit);

        // The store returns the latest candidates first, so a full page of hits is the latest matches either way.
        return new SearchResult(hits, candidates.Count, candidates.Count >= SampleLimit && hits.Count < limit, pushed);
    }

    /// <summary>
    /// Like an Ariadne search, but each matching trace comes whole, with the spans the query selects (Tempo's spansets
    /// and TraceQL metrics read the spans, not only their ids): at most <paramref name="limit"/> traces, from at most
    /// <see cref="SampleLimit"/> candidates, latest first.
    /// </summary>
    public async Task<TraceMatches> MatchAsync(string tenant, SearchQuery query, DateTimeOffset start, DateTimeOffset end, int limit, CancellationToken cancellationToken)
    {
        var candidates = await spans.FindTracesAsync(tenant, query.PushDown(start, end, SampleLimit), cancellationToken);
        var matches = new List<TraceMatch>();
        var spansExamined = 0;
        foreach (var trace in candidates)
        {
            spansExamined += trace.Count;
            var tree = TraceTree.Build(trace);
            var matched = query.Match(tree);
            if (matched.Count == 0)
            {
                continue;
            }

            matches.Add(new TraceMatch(tree, matched.OrderBy(n => n.Index).ToList()));
            if (matches.Count == limit)
            {
                break;
            }
        }

        return new TraceMatches(matches, candidates.Count, spansExamined, candidates.Count >= SampleLimit && matches.Count < limit);
    }

    /// <summary>
    /// The traces stored in [<paramref name="start"/>, <paramref name="end"/>], latest first, at most
    /// <see cref="SampleLimit"/>: what tag autocomplete lists names and values from.
    /// </summary>
    public async Task<IReadOnlyList<IReadOnlyList<Span>>> SampleTracesAsync(string tenant, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken) =>
        await spans.FindTracesAsync(tenant, new TraceQuery { StartTimeMin = start, StartTimeMax = end, Limit = SampleLimit }, cancellationToken);

    /// <summary>
    /// The trace of the same root service and operation whose duration is the median of those stored in the
    /// window before <paramref name="trace"/>'s end, other than <paramref name="trace"/> itself; null when none.
    /// </summary>
    public async Task<TraceSummary?> FindTypicalAsync(string tenant, TraceTree trace, TimeSpan lookback, CancellationToken cancellationToken)
    {
        if (trace.Root?.Span is not { } root)
        {
            return null;
        }

        var end = DateTimeOffset.UnixEpoch.AddTicks(trace.EndNanos / 100);
        var now = time.GetUtcNow();
        var query = new TraceQuery
        {
            ServiceName = root.ServiceName,
            OperationName = root.Name,
            StartTimeMin = end - lookback,
            StartTimeMax = now > end ? now : end,
            Limit = SampleLimit,
        };
        var candidates = (await spans.FindTracesAsync(tenant, query, cancellationToken))
            .Select(t => TraceSummary.From(TraceTree.Build(t)))
            .Where(s => s.TraceId != trace.TraceId
                && string.Equals(s.RootService, root.ServiceName, StringComparison.Ordinal)
                && string.Equals(s.RootOperation, root.Name, StringComparison.Ordinal))
            .OrderBy(s => s.DurationNanos)
            .ToList();
        return candidates.Count == 0 ? null : candidates[(candidates.Count - 1) / 2];
    }

    /// <summary>Per-operation RED of a service over the last <paramref name="lookback"/>, counted before sampling where the aggregators can.</summary>
    public async Task<ServiceOverview> GetOverviewAsync(string tenant, string service, TimeSpan lookback, int buckets, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var query = new TraceQuery { ServiceName = service, StartTimeMin = now - lookback, StartTimeMax = now, Limit = SampleLimit };
        var traces = await spans.FindTracesAsync(tenant, query, cancellationToken);
        var overview = OperationStatsCalculator.Compute(
            service, traces, ToNanos(now - lookback), ToNanos(now), buckets, truncated: traces.Count >= SampleLimit);
        return await preSampling.CorrectAsync(tenant, overview, traces, buckets, cancellationToken);
    }

    /// <summary>What separates slow (or failed) traces through a service/operation from the rest, over the last <paramref name="lookback"/>.</summary>
    public async Task<BottleneckReport> GetBottlenecksAsync(
        string tenant, string service, string? operation, TimeSpan lookback, BottleneckSelection selection, TimeSpan? threshold, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var query = new TraceQuery { ServiceName = service, OperationName = operation, StartTimeMin = now - lookback, StartTimeMax = now, Limit = SampleLimit };
        var traces = await spans.FindTracesAsync(tenant, query, cancellationToken);
        return BottleneckAnalysis.Compute(
            service, operation, traces, ToNanos(now - lookback), ToNanos(now), selection, threshold, truncated: traces.Count >= SampleLimit);
    }

    /// <summary>
    /// Calls between services in [<paramref name="endTime"/> - <paramref name="lookback"/>, <paramref name="endTime"/>],
    /// counted before sampling where the aggregators can; only the edges touching <paramref name="service"/> when given.
    /// </summary>
    public async Task<IReadOnlyList<DependencyLink>> GetDependenciesAsync(
        string tenant, DateTimeOffset endTime, TimeSpan lookback, string? service, CancellationToken cancellationToken)
    {
        var links = await preSampling.GetDependenciesAsync(tenant, endTime, lookback, cancellationToken);
        return string.IsNullOrEmpty(service) ? links : links.Where(l => l.Parent == service || l.Child == service).ToList();
    }

    /// <summary>Calls between services over the last <paramref name="lookback"/> (the service map).</summary>
    public Task<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, TimeSpan lookback, CancellationToken cancellationToken) =>
        GetDependenciesAsync(tenant, time.GetUtcNow(), lookback, service: null, cancellationToken);
}
