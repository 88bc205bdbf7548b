using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ariadne.Analysis;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Search;
using Ariadne.Tenancy;

namespace Ariadne.Query.Tempo;

/// <summary>
/// Tempo's HTTP API as Grafana's Tempo data source calls it (grafana/tempo pkg/api and modules/frontend): health
/// (<c>/api/echo</c>, <c>/ready</c>, <c>/api/status/buildinfo</c>), trace by id (v1 and v2, OTLP protobuf or
/// jsonpb JSON by <c>Accept</c>), TraceQL and tag search, tag names and values for autocomplete, and TraceQL metrics
/// (<see cref="TempoMetrics"/>). Served on its own listener (3200, as Tempo) and on the query listener, where Jaeger's
/// <c>/api/traces/{id}</c> keeps the path unless the client asks for protobuf, as Grafana's Tempo data source does.
/// Errors are Tempo's: 400 with a plain-text message (a TraceQL error names its line and column), 404 with no body.
/// Every read is for the request's tenant (<c>X-Scope-OrgID</c> or the configured tenant header).
/// </summary>
internal static partial class TempoApi
{
    public const string ProtobufContentType = "application/protobuf";

    /// <summary>Tempo's default result count and spans per spanset.</summary>
    private const int DefaultLimit = 20;
    private const int DefaultSpansPerSpanSet = 3;

    /// <summary>
    /// The Tempo API version buildinfo reports: Grafana's Tempo data source turns features on by it (v2 tags, TraceQL
    /// metrics), and this is the level of the API these endpoints answer as.
    /// </summary>
    private const string TempoApiVersion = "2.9.0";

    private static readonly JsonWriterOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string s_revision =
        typeof(TempoApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var listener in (Listener[])[Listener.Tempo, Listener.Query])
        {
            var api = app.MapGroup("").RequireListener(listener);
            api.MapGet("/api/echo", (HttpContext c) => WriteTextAsync(c, StatusCodes.Status200OK, "echo\n"));
            api.MapGet("/ready", (HttpContext c) => WriteTextAsync(c, StatusCodes.Status200OK, "ready\n"));
            api.MapGet("/api/status/buildinfo", WriteBuildInfoAsync);
            api.MapGet("/api/v2/traces/{traceID}", (HttpContext c) => HandleAsync(c, (tenant, reads) => GetTraceAsync(c, tenant, reads, v2: true)));
            api.MapGet("/api/search", (HttpContext c) => HandleAsync(c, (tenant, reads) => SearchAsync(c, tenant, reads)));
            api.MapGet("/api/search/tags", (HttpContext c) => HandleAsync(c, (tenant, reads) => TempoTags.WriteTagNamesAsync(c, tenant, reads, v2: false)));
            api.MapGet("/api/v2/search/tags", (HttpContext c) => HandleAsync(c, (tenant, reads) => TempoTags.WriteTagNamesAsync(c, tenant, reads, v2: true)));
            api.MapGet("/api/search/tag/{tag}/values", (HttpContext c) => HandleAsync(c, (tenant, reads) => TempoTags.WriteTagValuesAsync(c, tenant, reads, v2: false)));
            api.MapGet("/api/v2/search/tag/{tag}/values", (HttpContext c) => HandleAsync(c, (tenant, reads) => TempoTags.WriteTagValuesAsync(c, tenant, reads, v2: true)));
            api.MapGet("/api/metrics/query_range", (HttpContext c) => HandleAsync(c, (tenant, reads) => TempoMetrics.QueryRangeAsync(c, tenant, reads)));
            api.MapGet("/api/metrics/query", (HttpContext c) => HandleAsync(c, (tenant, reads) => TempoMetrics.QueryInstantAsync(c, tenant, reads)));

            var traceById = api.MapGet("/api/traces/{traceID}", (HttpContext c) => HandleAsync(c, (tenant, reads) => GetTraceAsync(c, tenant, reads, v2: false)));
            if (listener == Listener.Query)
            {
                traceById.WantsProtobufOverJaeger();
            }
        }
    }

    /// <summary>Answers with the tenant and the query service, or 400 in Tempo's plain text for a bad tenant or parameter.</summary>
    public static async Task HandleAsync(HttpContext context, Func<string, TraceQueryService, Task> handle)
    {
        var tenants = context.RequestServices.GetRequiredService<TenantResolver>();
        if (tenants.Resolve(context.Request) is not { } tenant)
        {
            await WriteTextAsync(context, StatusCodes.Status400BadRequest,
                $"invalid tenant in the {TenantResolver.TempoHeader} or {tenants.HeaderName} header: use 1 to 64 letters, digits, '-', '_' or '.'");
            return;
        }

        try
        {
            await handle(tenant, context.RequestServices.GetRequiredService<TraceQueryService>());
        }
        catch (TempoBadRequestException e)
        {
            await WriteTextAsync(context, StatusCodes.Status400BadRequest, e.Message);
        }
    }

    /// <summary>A parsed TraceQL query, or 400 with Tempo's <c>parse error at line L, col C: …</c>.</summary>
    public static SearchQuery ParseQuery(string text)
    {
        try
        {
            return SearchQuery.Parse(text);
        }
        catch (SearchSyntaxException e)
        {
            throw new TempoBadRequestException(TempoParameters.ParseErrorText(text, e.Position, e.Problem));
        }
    }

    public static Task WriteTextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    /// <summary>A JSON body written as jsonpb would write Tempo's message.</summary>
    public static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, s_json))
        {
            write(writer);
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    /// <summary>api.MarshalingFormatFromAcceptHeader: protobuf when the Accept header names it, JSON otherwise.</summary>
    public static bool WantsProtobuf(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains(ProtobufContentType, StringComparison.Ordinal);

    /// <summary>The <c>metrics</c> object of Tempo's responses; jsonpb leaves out zero fields.</summary>
    public static void WriteSearchMetrics(Utf8JsonWriter w, int inspectedTraces, long inspectedSpans)
    {
        w.WriteStartObject("metrics");
        if (inspectedTraces > 0)
        {
            w.WriteNumber("inspectedTraces", inspectedTraces);
        }

        w.WriteNumber("completedJobs", 1);
        w.WriteNumber("totalJobs", 1);
        if (inspectedSpans > 0)
        {
            w.WriteString("inspectedSpans", inspectedSpans.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        w.WriteEndObject();
    }

    /// <summary>Prometheus' version info, as Tempo's buildinfo encodes it.</summary>
    private static Task WriteBuildInfoAsync(HttpContext context) => WriteJsonAsync(context, w =>
    {
        w.WriteStartObject();
        w.WriteString("version", TempoApiVersion);
        w.WriteString("revision", s_revision);
        w.WriteString("branch", "ariadne");
        w.WriteString("buildUser", "ariadne");
        w.WriteString("buildDate", "");
        w.WriteString("goVersion", "");
        w.WriteEndObject();
    });

    /// <summary>
    /// v1 answers a <c>tempopb.Trace</c> (JSON: <c>{"batches":[…]}</c>), v2 a <c>TraceByIDResponse</c>
    /// (<c>{"trace":{"resourceSpans":[…]},"metrics":{}}</c>); both 404 with an empty body when no span of the trace is
    /// stored, or none overlaps the <c>start</c>/<c>end</c> window.
    /// </summary>
    private static async Task GetTraceAsync(HttpContext context, string tenant, TraceQueryService reads, bool v2)
    {
        var traceId = TempoParameters.ParseTraceId((string)context.GetRouteValue("traceID")!);
        var (start, end) = TempoParameters.ParseTraceWindow(context.Request);
        var spans = await reads.GetSpansAsync(tenant, traceId, context.RequestAborted);
        if (spans.Count == 0 || !Overlaps(spans, start, end))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (WantsProtobuf(context.Request))
        {
            var trace = OtlpProtobufWriter.WriteTracesData(spans);
            byte[] body;
            if (v2)
            {
                var response = new ProtobufWriter(trace.Length + 8);
                response.WriteBytesField(1, trace); // TraceByIDResponse.trace
                body = response.ToArray();
            }
            else
            {
                body = trace;
            }

            context.Response.ContentType = ProtobufContentType;
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
            return;
        }

        await WriteJsonAsync(context, w =>
        {
            if (!v2)
            {
                OtlpJsonWriter.WriteTracesData(w, spans, OtlpJsonStyle.TempoV1);
                return;
            }

            w.WriteStartObject();
            w.WritePropertyName("trace");
            OtlpJsonWriter.WriteTracesData(w, spans, OtlpJsonStyle.Tempo);
            w.WriteStartObject("metrics");
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private static bool Overlaps(IReadOnlyList<Span> spans, DateTimeOffset? start, DateTimeOffset? end)
    {
        var first = spans.Min(s => s.StartTimeUnixNano);
        var last = spans.Max(s => s.EndTimeUnixNano);
        return (start is null || last >= TraceQueryService.ToNanos(start.Value)) && (end is null || first <= TraceQueryService.ToNanos(end.Value));
    }

    /// <summary>
    /// <c>/api/search</c>: TraceQL in <c>q</c>, or the legacy tag search (<c>tags</c> in logfmt, or each tag as its
    /// own parameter when neither <c>q</c>, <c>tags</c>, <c>start</c> nor <c>end</c> is given) with
    /// <c>minDuration</c>/<c>maxDuration</c> on the trace's duration. Answers a <c>tempopb.SearchResponse</c>.
    /// </summary>
    private static async Task SearchAsync(HttpContext context, string tenant, TraceQueryService reads)
    {
        var request = context.Request;
        var q = TempoParameters.Get(request, "q");
        var tags = TempoParameters.Get(request, "tags");
        if (q is not null && tags is not null)
        {
            throw new TempoBadRequestException("invalid request: can't specify tags and q in the same query");
        }

        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        var hasWindow = request.Query.ContainsKey("start") || request.Query.ContainsKey("end");
        var (start, end) = TempoParameters.ParseSearchWindow(request, time.GetUtcNow());
        var limit = (int)Math.Min(TempoParameters.ParseUInt(request, "limit", positive: true) ?? DefaultLimit, TraceQueryService.MaxResults);
        var spansPerSpanSet = (int)Math.Min(TempoParameters.ParseUInt(request, "spss") ?? DefaultSpansPerSpanSet, int.MaxValue);
        var (minDuration, maxDuration) = TempoParameters.ParseDurations(request);

        string text;
        if (!string.IsNullOrWhiteSpace(q))
        {
            text = q;
        }
        else if (tags is not null)
        {
            text = TempoParameters.TagsToTraceQl(TempoParameters.ParseLogfmtTags(tags));
        }
        else if (q is null && !hasWindow)
        {
            text = TempoParameters.TagsToTraceQl(request.Query
                .Where(p => !s_searchParameters.Contains(p.Key) && p.Value.Count > 0 && !string.IsNullOrEmpty(p.Value[0]))
                .Select(p => (p.Key, p.Value[0]!)));
        }
        else
        {
            text = "{ }";
        }

        var query = ParseQuery(text);
        if (query.Metrics is { } metrics)
        {
            throw new TempoBadRequestException(TempoParameters.ParseErrorText(text, metrics.Aggregate.Position,
                "this is a TraceQL metrics query: run it on /api/metrics/query_range (Grafana: query type Metrics), or remove the metrics function to search"));
        }

        var byDuration = minDuration is not null || maxDuration is not null;
        var matches = await reads.MatchAsync(tenant, query, start, end, byDuration ? TraceQueryService.MaxResults : limit, context.RequestAborted);
        var traces = matches.Traces
            .Where(m => (minDuration is null || m.Tree.DurationNanos >= minDuration.Value.Ticks * 100)
                && (maxDuration is null || m.Tree.DurationNanos <= maxDuration.Value.Ticks * 100))
            .Take(limit)
            .ToList();
        var selected = SelectedAttributes(text);
        await WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("traces");
            foreach (var match in traces)
            {
                WriteTraceSearchMetadata(w, match, spansPerSpanSet, selected);
            }

            w.WriteEndArray();
            WriteSearchMetrics(w, matches.TracesExamined, matches.SpansExamined);
            w.WriteEndObject();
        });
    }

    private static readonly HashSet<string> s_searchParameters =
        new(["q", "tags", "minDuration", "maxDuration", "limit", "spss", "start", "end"], StringComparer.Ordinal);

    /// <summary>A <c>TraceSearchMetadata</c>: the spanset in both <c>spanSet</c> (deprecated) and <c>spanSets</c>, as Tempo writes it.</summary>
    private static void WriteTraceSearchMetadata(Utf8JsonWriter w, TraceMatch match, int spansPerSpanSet, IReadOnlyList<(string Scope, string Key)> selected)
    {
        var summary = TraceSummary.From(match.Tree);
        var rootKnown = match.Tree.Root?.Span is { } root && root.ParentSpanId.IsEmpty;
        w.WriteStartObject();
        w.WriteString("traceID", TempoParameters.TraceIdText(summary.TraceId));
        w.WriteString("rootServiceName", rootKnown ? summary.RootService : "<root span not yet received>");
        if (rootKnown && summary.RootOperation.Length > 0)
        {
            w.WriteString("rootTraceName", summary.RootOperation);
        }

        w.WriteString("startTimeUnixNano", ((ulong)summary.StartNanos).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var durationMs = summary.DurationNanos / 1_000_000;
        if (durationMs > 0)
        {
            w.WriteNumber("durationMs", (uint)Math.Min(durationMs, uint.MaxValue));
        }

        w.WritePropertyName("spanSet");
        WriteSpanSet(w, match.Matched, spansPerSpanSet, selected);
        w.WriteStartArray("spanSets");
        WriteSpanSet(w, match.Matched, spansPerSpanSet, selected);
        w.WriteEndArray();
        w.WriteStartObject("serviceStats");
        foreach (var service in summary.Services)
        {
            w.WriteStartObject(service.Service);
            if (service.Spans > 0)
            {
                w.WriteNumber("spanCount", service.Spans);
            }

            if (service.Errors > 0)
            {
                w.WriteNumber("errorCount", service.Errors);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>
    /// A <c>SpanSet</c>: the first <paramref name="spansPerSpanSet"/> matched spans, each with the attributes the query
    /// reads and <c>service.name</c> (Grafana's span table shows it), and how many spans matched.
    /// </summary>
    private static void WriteSpanSet(Utf8JsonWriter w, IReadOnlyList<TraceNode> matched, int spansPerSpanSet, IReadOnlyList<(string Scope, string Key)> selected)
    {
        w.WriteStartObject();
        w.WriteStartArray("spans");
        foreach (var node in matched.Take(spansPerSpanSet))
        {
            var span = node.Span;
            w.WriteStartObject();
            w.WriteString("spanID", span.SpanId.ToHex());
            if (span.Name.Length > 0)
            {
                w.WriteString("name", span.Name);
            }

            w.WriteString("startTimeUnixNano", ((ulong)span.StartTimeUnixNano).ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("durationNanos", ((ulong)span.DurationNanos).ToString(System.Globalization.CultureInfo.InvariantCulture));
            OtlpJsonWriter.WriteAttributes(w, "attributes", SpanSetAttributes(span, selected));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (matched.Count > 0)
        {
            w.WriteNumber("matched", matched.Count);
        }

        w.WriteEndObject();
    }

    private static KeyValue[] SpanSetAttributes(Span span, IReadOnlyList<(string Scope, string Key)> selected)
    {
        var attributes = new List<KeyValue> { KeyValue.String("service.name", span.ServiceName) };
        foreach (var (scope, key) in selected)
        {
            if (attributes.Any(a => a.Key == key))
            {
                continue;
            }

            var value = scope switch
            {
                "resource" => Find(span.Resource.Attributes, key),
                "span" => Find(span.Attributes, key),
                _ => Find(span.Attributes, key) ?? Find(span.Resource.Attributes, key),
            };
            if (value is { } found)
            {
                attributes.Add(found);
            }
        }

        return [.. attributes];
    }

    private static KeyValue? Find(KeyValue[] attributes, string key)
    {
        foreach (var kv in attributes)
        {
            if (kv.Key == key)
            {
                return kv;
            }
        }

        return null;
    }

    /// <summary>
    /// The attributes a query names (<c>span.k</c>, <c>resource.k</c>, <c>.k</c>), in order of appearance, read from its
    /// text with string literals blanked out; Tempo returns their values with each matched span, under the bare name.
    /// </summary>
    private static List<(string Scope, string Key)> SelectedAttributes(string query)
    {
        var code = QuotedText().Replace(query, m => new string(' ', m.Length));
        return AttributeReference().Matches(code)
            .Select(m => (m.Groups["scope"].Value, m.Groups["key"].Value))
            .Distinct()
            .ToList();
    }

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""|`[^`]*`")]
    private static partial Regex QuotedText();

    [GeneratedRegex(@"(?<![\w.:])(?<scope>span|resource)?\.(?<key>[A-Za-z_][\w.\-/]*)")]
    private static partial Regex AttributeReference();
}
