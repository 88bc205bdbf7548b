using Ariadne.Analysis;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Tenancy;

namespace Ariadne.Query.Api;

/// <summary>
/// <c>/api/ariadne/...</c>: the analyses the UI shows, as JSON, so that they can be used and tested without a
/// browser. Times are microseconds since the Unix epoch and durations microseconds, as in Jaeger's API.
/// </summary>
public static class AnalysisApi
{
    private static readonly TimeSpan s_defaultTypicalLookback = TimeSpan.FromDays(1);
    private static readonly TimeSpan s_defaultOverviewLookback = TimeSpan.FromHours(1);

    /// <summary>Every <c>/api/ariadne/...</c> route, on the query listener.</summary>
    public static void MapAriadneApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/ariadne");
        api.MapGet("/traces/{traceId}/critical-path", CriticalPathAsync);
        api.MapGet("/traces/{traceId}/typical", TypicalAsync);
        api.MapGet("/traces/{traceId}/logs", TraceLogsApi.GetAsync);
        api.MapGet("/compare", CompareAsync);
        api.MapGet("/services/{service}/operations", OperationsAsync);
        api.MapGet("/bottlenecks", BottlenecksAsync);
        api.MapGet("/search", SearchApi.SearchAsync);
        api.MapGet("/alerts", AlertsApi.Get);
        api.RequireListener(Listener.Query);
    }

    private static async Task<IResult> CriticalPathAsync(string traceId, HttpRequest request, TraceQueryService query, TenantResolver tenants, CancellationToken ct)
    {
        if (tenants.Resolve(request) is not { } tenant)
        {
            return BadTenant(tenants);
        }

        if (!TraceId.TryParseHex(traceId, out var id))
        {
            return BadTraceId(traceId);
        }

        if (await query.GetTreeAsync(tenant, id, ct) is not { } tree)
        {
            return TraceNotFound(id);
        }

        var sections = CriticalPath.Compute(tree);
        return Results.Json(new
        {
            traceId = id.ToHex(),
            durationMicros = Micros(tree.DurationNanos),
            spanIds = sections.Select(s => s.SpanId).Distinct().Select(s => s.ToHex()),
            sections = sections.Select(s => new { spanId = s.SpanId.ToHex(), start = Micros(s.StartNanos), end = Micros(s.EndNanos) }),
        });
    }

    private static async Task<IResult> TypicalAsync(string traceId, string? lookback, HttpRequest request, TraceQueryService query, TenantResolver tenants, CancellationToken ct)
    {
        if (tenants.Resolve(request) is not { } tenant)
        {
            return BadTenant(tenants);
        }

        if (!TraceId.TryParseHex(traceId, out var id))
        {
            return BadTraceId(traceId);
        }

        if (!TryLookback(lookback, s_defaultTypicalLookback, out var window))
        {
            return BadLookback(lookback);
        }

        if (await query.GetTreeAsync(tenant, id, ct) is not { } tree)
        {
            return TraceNotFound(id);
        }

        if (await query.FindTypicalAsync(tenant, tree, window, ct) is not { } typical)
        {
            return Results.Json(
                new { error = $"No other trace of {tree.Root!.Span.ServiceName} '{tree.Root.Span.Name}' in the {DurationText.Format(window.Ticks * 100)} before it; widen ?lookback=." },
                statusCode: StatusCodes.Status404NotFound);
        }

        return Results.Json(new { traceId = typical.TraceId.ToHex(), durationMicros = Micros(typical.DurationNanos), start = Micros(typical.StartNanos) });
    }

    private static async Task<IResult> CompareAsync(string? a, string? b, HttpRequest request, TraceQueryService query, TenantResolver tenants, CancellationToken ct)
    {
        if (tenants.Resolve(request) is not { } tenant)
        {
            return BadTenant(tenants);
        }

        if (!TraceId.TryParseHex(a, out var idA) || !TraceId.TryParseHex(b, out var idB))
        {
            return Results.BadRequest(new { error = "Give two trace ids as hex: /api/ariadne/compare?a=<trace id>&b=<trace id>." });
        }

        var pair = await query.CompareAsync(tenant, idA, idB, ct);
        if (pair.Missing is { } missing)
        {
            return TraceNotFound(missing);
        }

        return Results.Json(new
        {
            a = new { traceId = idA.ToHex(), durationMicros = Micros(pair.A!.DurationNanos), spans = pair.A.Nodes.Count },
            b = new { traceId = idB.ToHex(), durationMicros = Micros(pair.B!.DurationNanos), spans = pair.B.Nodes.Count },
            nodes = pair.Comparison!.Roots.Select(ToJson),
        });
    }

    private static async Task<IResult> OperationsAsync(string service, string? lookback, HttpRequest request, TraceQueryService query, TenantResolver tenants, CancellationToken ct)
    {
        if (tenants.Resolve(request) is not { } tenant)
        {
            return BadTenant(tenants);
        }

        if (!TryLookback(lookback, s_defaultOverviewLookback, out var window))
        {
            return BadLookback(lookback);
        }

        var overview = await query.GetOverviewAsync(tenant, service, window, buckets: 30, ct);
        return Results.Json(new
        {
            service = overview.Service,
            start = Micros(overview.StartNanos),
            end = Micros(overview.EndNanos),
            tracesExamined = overview.TracesExamined,
            truncated = overview.Truncated,
            countedBeforeSampling = overview.CountedBeforeSampling,
            operations = overview.Operations.Select(o => new
            {
                operation = o.Operation,
                kind = o.Kind.ToString().ToLowerInvariant(),
                count = o.Count,
                errors = o.Errors,
                ratePerSecond = o.RatePerSecond,
                errorRate = o.ErrorRate,
                p50Micros = Micros(o.P50Nanos),
                p90Micros = Micros(o.P90Nanos),
                p99Micros = Micros(o.P99Nanos),
            }),
        });
    }

    private static async Task<IResult> BottlenecksAsync(
        string? service, string? operation, string? lookback, string? threshold, string? selection,
        HttpRequest request, TraceQueryService query, TenantResolver tenants, CancellationToken ct)
    {
        if (tenants.Resolve(request) is not { } tenant)
        {
            return BadTenant(tenants);
        }

        if (string.IsNullOrWhiteSpace(service))
        {
            return Results.BadRequest(new { error = "Name the service to analyse: /api/ariadne/bottlenecks?service=<service>[&operation=<operation>]." });
        }

        if (!TryLookback(lookback, s_defaultOverviewLookback, out var window))
        {
            return BadLookback(lookback);
        }

        TimeSpan? limit = null;
        if (!string.IsNullOrEmpty(threshold))
        {
            if (!DurationText.TryParse(threshold, out var value))
            {
                return Results.BadRequest(new { error = $"'{threshold}' is not a threshold: use a duration such as 250ms or 1.5s, or leave it out for the range's p90." });
            }

            limit = value;
        }

        if (!TryParseSelection(selection, out var split))
        {
            return Results.BadRequest(new { error = $"'{selection}' is not a selection: use slow (the default) or errors." });
        }

        var report = await query.GetBottlenecksAsync(tenant, service, string.IsNullOrEmpty(operation) ? null : operation, window, split, limit, ct);
        return Results.Json(new
        {
            service = report.Service,
            operation = report.Operation,
            selection = report.Selection == BottleneckSelection.Slow ? "slow" : "errors",
            start = Micros(report.StartNanos),
            end = Micros(report.EndNanos),
            thresholdMicros = Micros(report.ThresholdNanos),
            tracesExamined = report.TracesExamined,
            truncated = report.Truncated,
            selected = report.SelectedCount,
            baseline = report.BaselineCount,
            attributes = report.Attributes.Select(a => new
            {
                key = a.Key,
                score = a.Score,
                values = a.Values.Select(v => new
                {
                    value = v.Value,
                    selected = v.Selected,
                    baseline = v.Baseline,
                    selectedShare = v.SelectedShare,
                    baselineShare = v.BaselineShare,
                    difference = v.Difference,
                }),
            }),
            contributors = report.Contributors.Select(c => new
            {
                service = c.Service,
                operation = c.Operation,
                selectedMeanMicros = Micros(c.SelectedMeanNanos),
                baselineMeanMicros = Micros(c.BaselineMeanNanos),
                excessMicros = Micros(c.ExcessNanos),
                selectedShare = c.SelectedShare,
            }),
        });
    }

    /// <summary>slow (default) or errors, any case.</summary>
    public static bool TryParseSelection(string? text, out BottleneckSelection selection)
    {
        selection = BottleneckSelection.Slow;
        switch (text?.ToLowerInvariant())
        {
            case null or "" or "slow":
                return true;
            case "errors" or "error":
                selection = BottleneckSelection.Errors;
                return true;
            default:
                return false;
        }
    }

    private static object ToJson(ComparisonNode node) => new
    {
        service = node.Service,
        operation = node.Operation,
        change = node.Change switch
        {
            ComparisonChange.OnlyInA => "removed",
            ComparisonChange.OnlyInB => "added",
            ComparisonChange.CountChanged => "count-changed",
            _ => "same",
        },
        countA = node.CountA,
        countB = node.CountB,
        durationMicrosA = Micros(node.DurationNanosA),
        durationMicrosB = Micros(node.DurationNanosB),
        deltaMicros = Micros(node.DeltaNanos),
        children = node.Children.Select(ToJson),
    };

    internal static long Micros(long nanos) => nanos / 1000;

    internal static bool TryLookback(string? text, TimeSpan fallback, out TimeSpan window)
    {
        window = fallback;
        return string.IsNullOrEmpty(text) || (DurationText.TryParse(text, out window) && window > TimeSpan.Zero);
    }

    internal static IResult BadTenant(TenantResolver tenants) =>
        Results.BadRequest(new { error = $"The {tenants.HeaderName} header must be 1-64 letters, digits, '-', '_' or '.'." });

    internal static IResult BadTraceId(string? text) =>
        Results.BadRequest(new { error = $"'{text}' is not a trace id: use 1 to 32 hex digits." });

    internal static IResult BadLookback(string? text) =>
        Results.BadRequest(new { error = $"'{text}' is not a lookback: use a duration such as 15m, 1h or 2d." });

    private static IResult TraceNotFound(TraceId id) =>
        Results.Json(new { error = $"Trace {id.ToHex()} not found: it was not received or has been evicted." }, statusCode: StatusCodes.Status404NotFound);
}
