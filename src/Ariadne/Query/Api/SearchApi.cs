using Ariadne.Search;
using Ariadne.Tenancy;

namespace Ariadne.Query.Api;

/// <summary><c>GET /api/ariadne/search?q=&amp;lookback=&amp;limit=</c> (or <c>start</c>/<c>end</c> in µs, as Jaeger's API).</summary>
internal static class SearchApi
{
    private static readonly TimeSpan s_defaultLookback = TimeSpan.FromHours(1);

    public static async Task<IResult> SearchAsync(
        string? q, string? lookback, int? limit, long? start, long? end,
        HttpRequest request, TraceQueryService reads, TenantResolver tenants, TimeProvider time, CancellationToken ct)
    {
        if (tenants.Resolve(request) is not { } tenant)
        {
            return AnalysisApi.BadTenant(tenants);
        }

        if (string.IsNullOrWhiteSpace(q))
        {
            return Results.BadRequest(new { error = "Give a query in ?q=, such as { resource.service.name = \"orders\" && status = error } (see docs/search.md).", position = 0 });
        }

        SearchQuery query;
        try
        {
            query = SearchQuery.Parse(q);
        }
        catch (SearchSyntaxException e)
        {
            return Results.BadRequest(new { error = e.Message, position = e.Position, line = e.Line, column = e.Column });
        }

        if (query.Metrics is { } metrics)
        {
            return Results.BadRequest(new { error = "This is a TraceQL metrics query: run it on /api/metrics/query_range (Tempo's API), or remove the metrics function to search.", position = metrics.Aggregate.Position });
        }

        if (!AnalysisApi.TryLookback(lookback, s_defaultLookback, out var window))
        {
            return AnalysisApi.BadLookback(lookback);
        }

        if (limit is < 1 or > TraceQueryService.MaxResults)
        {
            return Results.BadRequest(new { error = $"limit must be between 1 and {TraceQueryService.MaxResults}." });
        }

        var to = end is { } e2 ? DateTimeOffset.UnixEpoch.AddTicks(e2 * 10) : time.GetUtcNow();
        var from = start is { } s ? DateTimeOffset.UnixEpoch.AddTicks(s * 10) : to - window;
        var result = await reads.SearchAsync(tenant, query, from, to, TraceQueryService.ResultLimit(limit), ct);
        var pushed = result.PushedDown;
        return Results.Json(new
        {
            query = query.Root.ToString(),
            candidatesExamined = result.CandidatesExamined,
            truncated = result.Truncated,
            pushedDown = new
            {
                service = pushed.ServiceName,
                operation = pushed.OperationName,
                tags = pushed.Tags,
                minDurationMicros = pushed.MinDuration?.Ticks / 10,
                maxDurationMicros = pushed.MaxDuration?.Ticks / 10,
            },
            data = result.Hits.Select(h => new
            {
                traceId = h.Trace.TraceId.ToHex(),
                rootService = h.Trace.RootService,
                rootOperation = h.Trace.RootOperation,
                start = AnalysisApi.Micros(h.Trace.StartNanos),
                durationMicros = AnalysisApi.Micros(h.Trace.DurationNanos),
                spans = h.Trace.SpanCount,
                errors = h.Trace.ErrorCount,
                services = h.Trace.Services.Select(s => new { service = s.Service, spans = s.Spans, errors = s.Errors }),
                matchedSpans = h.MatchedSpans.Select(id => id.ToHex()),
            }),
        });
    }
}
