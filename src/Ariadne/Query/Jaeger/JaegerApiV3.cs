using System.Text.Json;
using Ariadne.GoCompat;
using Ariadne.Model;

namespace Ariadne.Query.Jaeger;

/// <summary>
/// Jaeger v2's api_v3 HTTP gateway (<c>/api/v3/...</c>): traces as OTLP/JSON in a <c>result</c> field, services and
/// operations as the gateway's protobuf JSON, errors as <c>{"error":{"httpCode":…,"message":…}}</c>. Parameters use
/// Jaeger's canonical camelCase names and also their older snake_case aliases (<c>query.service_name</c>,
/// <c>query.num_traces</c>…); times are RFC 3339, durations Go durations.
/// </summary>
internal static class JaegerApiV3
{
    private const int DefaultSearchDepth = 100;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/services", new RequestDelegate(GetServicesAsync));
        api.MapGet("/operations", new RequestDelegate(GetOperationsAsync));
        api.MapGet("/traces", new RequestDelegate(FindTracesAsync));
        api.MapGet("/traces/{trace_id}", new RequestDelegate(GetTraceAsync));
    }

    private static async Task GetServicesAsync(HttpContext context)
    {
        if (await ResolveTenantAsync(context) is not { } tenant)
        {
            return;
        }

        var services = await Reads(context).GetServicesAsync(tenant, context.RequestAborted);
        await WriteResultAsync(context, w =>
        {
            w.WriteStartObject();
            if (services.Count > 0)
            {
                w.WriteStartArray("services");
                foreach (var service in services)
                {
                    w.WriteStringValue(service);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        });
    }

    private static async Task GetOperationsAsync(HttpContext context)
    {
        if (await ResolveTenantAsync(context) is not { } tenant)
        {
            return;
        }

        var request = context.Request;
        IReadOnlyList<OperationInfo> operations = JaegerHttp.TryParseKindFilter(Get(request, "spanKind", "span_kind").Value, out var kind)
            ? await Reads(context).GetOperationsAsync(tenant, JaegerHttp.Get(request, "service"), kind, context.RequestAborted)
            : [];
        await WriteResultAsync(context, w =>
        {
            w.WriteStartObject();
            if (operations.Count > 0)
            {
                w.WriteStartArray("operations");
                foreach (var operation in operations)
                {
                    w.WriteStartObject();
                    w.WriteString("name", operation.Name);
                    // The gateway reports an operation without a kind as internal.
                    w.WriteString("spanKind", operation.Kind == SpanKind.Unspecified ? "internal" : SpanMatcher.SpanKindName(operation.Kind));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        });
    }

    private static async Task GetTraceAsync(HttpContext context)
    {
        if (await ResolveTenantAsync(context) is not { } tenant)
        {
            return;
        }

        var request = context.Request;
        if (!JaegerHttp.TryParseTraceId((string)context.GetRouteValue("trace_id")!, out var traceId, out var error))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, Malformed("trace_id", error));
            return;
        }

        if (!TryParseTime(request, "startTime", "start_time", out _, out error)
            || !TryParseTime(request, "endTime", "end_time", out _, out error)
            || !TryParseBool(request, "rawTraces", "raw_traces", out var raw, out error))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, error);
            return;
        }

        var trace = await Reads(context).GetSpansAsync(tenant, traceId, context.RequestAborted);
        await WriteTracesAsync(context, trace.Count == 0 ? [] : [trace], adjust: !raw);
    }

    private static async Task FindTracesAsync(HttpContext context)
    {
        if (await ResolveTenantAsync(context) is not { } tenant)
        {
            return;
        }

        if (!TryParseQuery(context.Request, out var query, out var raw, out var error))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, error);
            return;
        }

        var traces = await Reads(context).FindTracesAsync(tenant, query, context.RequestAborted);
        await WriteTracesAsync(context, traces, adjust: !raw);
    }

    /// <summary>The gateway's parseFindTracesQuery, in its order, then the query service's required time range.</summary>
    private static bool TryParseQuery(HttpRequest request, out TraceQuery query, out bool raw, out string error)
    {
        query = null!;
        raw = false;
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (JaegerHttp.Get(request, "query.attributes") is { Length: > 0 } attributes
            && !GoJson.TryParseStringMap(attributes, out tags, out var jsonError))
        {
            error = Malformed("query.attributes", jsonError);
            return false;
        }

        if (!TryParseTime(request, "query.startTimeMin", "query.start_time_min", out var min, out error)
            || !TryParseTime(request, "query.startTimeMax", "query.start_time_max", out var max, out error))
        {
            return false;
        }

        var (depthText, depthName) = Get(request, "query.searchDepth", "query.search_depth");
        if (depthText.Length == 0)
        {
            (depthText, depthName) = (JaegerHttp.Get(request, "query.num_traces"), "query.num_traces");
        }

        ulong depth = 0;
        if (depthText.Length > 0 && !(GoStrconv.TryParseUint(depthText, 10, out depth, out error) && depth <= uint.MaxValue))
        {
            error = Malformed(depthName, depth > uint.MaxValue ? $"strconv.ParseUint: parsing {GoStrconv.Quote(depthText)}: value out of range" : error);
            return false;
        }

        if (!TryParseDuration(request, "query.durationMin", "query.duration_min", out var minDuration, out error)
            || !TryParseDuration(request, "query.durationMax", "query.duration_max", out var maxDuration, out error)
            || !TryParseBool(request, "query.rawTraces", "query.raw_traces", out raw, out error))
        {
            return false;
        }

        if (min is null || max is null)
        {
            error = "query.start_time_min and query.start_time_max are required";
            return false;
        }

        query = new TraceQuery
        {
            ServiceName = Get(request, "query.serviceName", "query.service_name").Value,
            OperationName = Get(request, "query.operationName", "query.operation_name").Value,
            Tags = tags,
            StartTimeMin = min.Value,
            StartTimeMax = max.Value,
            MinDuration = minDuration == 0 ? null : JaegerHttp.FromNanos(minDuration),
            MaxDuration = maxDuration == 0 ? null : JaegerHttp.FromNanos(maxDuration),
            Limit = depth == 0 ? DefaultSearchDepth : (int)Math.Min(depth, int.MaxValue),
        };
        return true;
    }

    /// <summary>A parameter by its canonical name, else by its deprecated alias; with the name it was found under.</summary>
    private static (string Value, string Name) Get(HttpRequest request, string canonical, string deprecated) =>
        JaegerHttp.Get(request, canonical) is { Length: > 0 } value ? (value, canonical) : (JaegerHttp.Get(request, deprecated), deprecated);

    private static bool TryParseTime(HttpRequest request, string canonical, string deprecated, out DateTimeOffset? time, out string error)
    {
        time = null;
        error = string.Empty;
        var (text, name) = Get(request, canonical, deprecated);
        if (text.Length == 0)
        {
            return true;
        }

        if (!GoTime.TryParseRfc3339Nano(text, out var parsed, out error))
        {
            error = Malformed(name, error);
            return false;
        }

        time = parsed;
        return true;
    }

    private static bool TryParseDuration(HttpRequest request, string canonical, string deprecated, out long nanoseconds, out string error)
    {
        nanoseconds = 0;
        error = string.Empty;
        var (text, name) = Get(request, canonical, deprecated);
        if (text.Length > 0 && !GoDuration.TryParse(text, out nanoseconds, out error))
        {
            error = Malformed(name, error);
            return false;
        }

        return true;
    }

    private static bool TryParseBool(HttpRequest request, string canonical, string deprecated, out bool value, out string error)
    {
        value = false;
        error = string.Empty;
        var (text, name) = Get(request, canonical, deprecated);
        if (text.Length > 0 && !GoStrconv.TryParseBool(text, out value, out error))
        {
            error = Malformed(name, error);
            return false;
        }

        return true;
    }

    private static string Malformed(string name, string error) => $"malformed parameter {name}: {error}";

    private static TraceQueryService Reads(HttpContext context) => context.RequestServices.GetRequiredService<TraceQueryService>();

    private static Task<string?> ResolveTenantAsync(HttpContext context) => JaegerHttp.ResolveTenantAsync(context, WriteErrorAsync);

    /// <summary>All traces' ResourceSpans in one TracesData, as the gateway combines them; 404 when there are none.</summary>
    private static Task WriteTracesAsync(HttpContext context, IReadOnlyList<IReadOnlyList<Span>> traces, bool adjust)
    {
        if (traces.Count == 0)
        {
            return WriteErrorAsync(context, StatusCodes.Status404NotFound, "No traces found");
        }

        var spans = traces.SelectMany(t => TraceAdjuster.Prepare(t, adjust)).ToList();
        return WriteResultAsync(context, w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("result");
            OtlpJsonWriter.WriteTracesData(w, spans);
            w.WriteEndObject();
        });
    }

    private static Task WriteResultAsync(HttpContext context, Action<Utf8JsonWriter> write) =>
        JaegerHttp.WriteJsonAsync(context, StatusCodes.Status200OK, "application/json", pretty: false, write);

    private static Task WriteErrorAsync(HttpContext context, int statusCode, string message) =>
        JaegerHttp.WriteGoErrorAsync(context, statusCode, w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteNumber("httpCode", statusCode);
            w.WriteString("message", message);
            w.WriteEndObject();
            w.WriteEndObject();
        });
}
