using System.Text.Json;
using Ariadne.GoCompat;
using Ariadne.Model;

namespace Ariadne.Query.Jaeger;

/// <summary>
/// Jaeger's HTTP JSON query API (<c>/api/...</c>, what the Jaeger UI and Grafana's Jaeger data source call), answering
/// as Jaeger v2 does: the <c>{data,total,limit,offset,errors}</c> envelope, Jaeger's 400 messages for bad parameters,
/// 404 with an <c>errors</c> entry for an unknown trace. Parameters are read as Jaeger reads them: times in
/// microseconds (dependencies: milliseconds), durations as Go durations (<c>1.2s</c>, <c>300ms</c>), tags as
/// <c>tag=k:v</c> and as a JSON object in <c>tags=</c>.
/// </summary>
internal static class JaegerApi
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    // Jaeger's defaults: a search without start looks back two days, dependencies one day, at most 100 traces.
    private static readonly TimeSpan s_searchLookback = TimeSpan.FromDays(2);
    private static readonly TimeSpan s_dependenciesLookback = TimeSpan.FromDays(1);
    private const int DefaultLimit = 100;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/services", new RequestDelegate(GetServicesAsync));
        api.MapGet("/services/{service}/operations", new RequestDelegate(GetServiceOperationsAsync));
        api.MapGet("/operations", new RequestDelegate(GetOperationsAsync));
        api.MapGet("/traces", new RequestDelegate(SearchAsync));
        api.MapGet("/traces/{traceID}", new RequestDelegate(GetTraceAsync));
        api.MapGet("/dependencies", new RequestDelegate(GetDependenciesAsync));
    }

    private static async Task GetServicesAsync(HttpContext context)
    {
        if (await ResolveTenantAsync(context) is not { } tenant)
        {
            return;
        }

        var services = await Reads(context).GetServicesAsync(tenant, context.RequestAborted);
        await WriteEnvelopeAsync(context, services.Count, w =>
        {
            w.WriteStartArray();
            foreach (var service in services)
            {
                w.WriteStringValue(service);
            }

            w.WriteEndArray();
        });
    }

    /// <summary>The UI's operation list: distinct names over all span kinds, null when there are none, as in Jaeger.</summary>
    private static async Task GetServiceOperationsAsync(HttpContext context)
    {
        if (await ResolveTenantAsync(context) is not { } tenant)
        {
            return;
        }

        // Kestrel leaves an encoded slash in a route value; Jaeger unescapes the whole segment.
        var service = ((string)context.GetRouteValue("service")!).Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        var names = await Reads(context).GetOperationNamesAsync(tenant, service, context.RequestAborted);
        await WriteEnvelopeAsync(context, names.Count, w =>
        {
            if (names.Count == 0)
            {
                w.WriteNullValue();
                return;
            }

            w.WriteStartArray();
            foreach (var name in names)
            {
                w.WriteStringValue(name);
            }

            w.WriteEndArray();
        });
    }

    private static async Task GetOperationsAsync(HttpContext context)
    {
        if (await ResolveTenantAsync(context) is not { } tenant)
        {
            return;
        }

        var service = JaegerHttp.Get(context.Request, "service");
        if (service.Length == 0)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "parameter 'service' is required");
            return;
        }

        IReadOnlyList<OperationInfo> operations = JaegerHttp.TryParseKindFilter(JaegerHttp.Get(context.Request, "spanKind"), out var kind)
            ? await Reads(context).GetOperationsAsync(tenant, service, kind, context.RequestAborted)
            : [];
        await WriteEnvelopeAsync(context, operations.Count, w =>
        {
            w.WriteStartArray();
            foreach (var operation in operations)
            {
                w.WriteStartObject();
                w.WriteString("name", operation.Name);
                w.WriteString("spanKind", SpanMatcher.SpanKindName(operation.Kind));
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private static async Task SearchAsync(HttpContext context)
    {
        if (await ResolveTenantAsync(context) is not { } tenant)
        {
            return;
        }

        if (!TryParseSearch(context.Request, out var search, out var error))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, error);
            return;
        }

        // Jaeger v2 leaves unknown ids out of the answer without an error entry.
        var reads = Reads(context);
        var traces = search.TraceIds.Count > 0
            ? await reads.GetTracesAsync(tenant, search.TraceIds, context.RequestAborted)
            : await reads.FindTracesAsync(tenant, search.Query, context.RequestAborted);
        await WriteTracesAsync(context, traces, adjust: !search.Raw);
    }

    private static async Task GetTraceAsync(HttpContext context)
    {
        if (await ResolveTenantAsync(context) is not { } tenant)
        {
            return;
        }

        var request = context.Request;
        if (!JaegerHttp.TryParseTraceId((string)context.GetRouteValue("traceID")!, out var traceId, out var error)
            || !TryParseOptionalTime(request, "start", out error)
            || !TryParseOptionalTime(request, "end", out error)
            || !TryParseBool(request, "raw", out var raw, out error))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, error);
            return;
        }

        var trace = await Reads(context).GetSpansAsync(tenant, traceId, context.RequestAborted);
        if (trace.Count == 0)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, "trace not found");
            return;
        }

        await WriteTracesAsync(context, [trace], adjust: !raw);
    }

    private static async Task GetDependenciesAsync(HttpContext context)
    {
        if (await ResolveTenantAsync(context) is not { } tenant)
        {
            return;
        }

        var request = context.Request;
        var endTs = DateTimeOffset.UtcNow;
        var lookback = s_dependenciesLookback;
        string error;
        if (JaegerHttp.Get(request, "endTs") is { Length: > 0 } endText)
        {
            if (!GoStrconv.TryParseInt(endText, 64, out var endMs, out error))
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, ParamError("endTs", error));
                return;
            }

            endTs = JaegerHttp.FromUnix(endMs, TimeSpan.TicksPerMillisecond);
        }

        if (JaegerHttp.Get(request, "lookback") is { Length: > 0 } lookbackText)
        {
            if (!GoStrconv.TryParseInt(lookbackText, 64, out var lookbackMs, out error))
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, ParamError("lookback", error));
                return;
            }

            var maxMs = TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerMillisecond;
            lookback = TimeSpan.FromTicks(Math.Clamp(lookbackMs, -maxMs, maxMs) * TimeSpan.TicksPerMillisecond);
        }

        if (lookback < TimeSpan.Zero)
        {
            // Jaeger's storage refuses an inverted window, which its handler reports as a server error.
            await WriteErrorAsync(context, StatusCodes.Status500InternalServerError, "end time must be greater than start time");
            return;
        }

        if (endTs - DateTimeOffset.MinValue < lookback)
        {
            lookback = endTs - DateTimeOffset.MinValue;
        }

        var service = JaegerHttp.Get(request, "service");
        var links = await Reads(context).GetDependenciesAsync(tenant, endTs, lookback, service, context.RequestAborted);
        await WriteEnvelopeAsync(context, 0, w =>
        {
            w.WriteStartArray();
            foreach (var link in links)
            {
                w.WriteStartObject();
                w.WriteString("parent", link.Parent);
                w.WriteString("child", link.Child);
                w.WriteNumber("callCount", link.CallCount);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    /// <summary>Jaeger's parseTraceQueryParams and validateQuery, in the same order, so the same error wins.</summary>
    internal static bool TryParseSearch(HttpRequest request, out Search search, out string error)
    {
        search = null!;
        var now = DateTimeOffset.UtcNow;
        var start = now - s_searchLookback;
        var end = now;
        if (!TryParseTime(request, "start", ref start, out error) || !TryParseTime(request, "end", ref end, out error))
        {
            return false;
        }

        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in JaegerHttp.GetAll(request, "tag"))
        {
            var parts = (tag ?? string.Empty).Split(':');
            if (parts.Length <= 1)
            {
                error = "malformed 'tag' parameter, expecting key:value, received: " + tag;
                return false;
            }

            tags[parts[0]] = string.Join(':', parts[1..]);
        }

        foreach (var json in JaegerHttp.GetAll(request, "tags"))
        {
            if (!GoJson.TryParseStringMap(json ?? string.Empty, out var fromJson, out var jsonError))
            {
                error = "malformed 'tags' parameter, cannot unmarshal JSON: " + jsonError;
                return false;
            }

            foreach (var (key, value) in fromJson)
            {
                tags[key] = value;
            }
        }

        long limit = DefaultLimit;
        if (JaegerHttp.Get(request, "limit") is { Length: > 0 } limitText && !GoStrconv.TryParseInt(limitText, 32, out limit, out error))
        {
            return false;
        }

        if (!TryParseDuration(request, "minDuration", out var minDuration, out error)
            || !TryParseDuration(request, "maxDuration", out var maxDuration, out error))
        {
            return false;
        }

        var traceIds = new List<TraceId>();
        foreach (var text in JaegerHttp.GetAll(request, "traceID"))
        {
            if (!JaegerHttp.TryParseTraceId(text ?? string.Empty, out var traceId, out var idError))
            {
                error = "cannot parse traceID param: " + idError;
                return false;
            }

            traceIds.Add(traceId);
        }

        if (!TryParseBool(request, "raw", out var raw, out error))
        {
            return false;
        }

        var service = JaegerHttp.Get(request, "service");
        if (traceIds.Count == 0 && service.Length == 0)
        {
            error = "parameter 'service' is required";
            return false;
        }

        if (limit <= 0)
        {
            error = "invalid parameter: limit must be greater than 0";
            return false;
        }

        if (start > end)
        {
            error = "invalid parameter: start time must be before end time";
            return false;
        }

        if (minDuration != 0 && maxDuration != 0 && maxDuration < minDuration)
        {
            error = "'maxDuration' should be greater than 'minDuration'";
            return false;
        }

        search = new Search(
            new TraceQuery
            {
                ServiceName = service,
                OperationName = JaegerHttp.Get(request, "operation"),
                Tags = tags,
                MinDuration = minDuration == 0 ? null : JaegerHttp.FromNanos(minDuration),
                MaxDuration = maxDuration == 0 ? null : JaegerHttp.FromNanos(maxDuration),
                StartTimeMin = start,
                StartTimeMax = end,
                Limit = (int)limit,
            },
            traceIds,
            raw);
        return true;
    }

    private static bool TryParseTime(HttpRequest request, string name, ref DateTimeOffset time, out string error)
    {
        error = string.Empty;
        if (JaegerHttp.Get(request, name) is not { Length: > 0 } text)
        {
            return true;
        }

        if (!GoStrconv.TryParseInt(text, 64, out var micros, out error))
        {
            error = ParamError(name, error);
            return false;
        }

        time = JaegerHttp.FromUnix(micros, TicksPerMicrosecond);
        return true;
    }

    private static bool TryParseOptionalTime(HttpRequest request, string name, out string error)
    {
        var ignored = DateTimeOffset.UnixEpoch;
        return TryParseTime(request, name, ref ignored, out error);
    }

    private static bool TryParseDuration(HttpRequest request, string name, out long nanoseconds, out string error)
    {
        nanoseconds = 0;
        error = string.Empty;
        if (JaegerHttp.Get(request, name) is { Length: > 0 } text && !GoDuration.TryParse(text, out nanoseconds, out error))
        {
            error = ParamError(name, error);
            return false;
        }

        return true;
    }

    private static bool TryParseBool(HttpRequest request, string name, out bool value, out string error)
    {
        value = false;
        error = string.Empty;
        if (JaegerHttp.Get(request, name) is { Length: > 0 } text && !GoStrconv.TryParseBool(text, out value, out error))
        {
            error = ParamError(name, error);
            return false;
        }

        return true;
    }

    private static string ParamError(string name, string error) => $"unable to parse param '{name}': {error}";

    private static TraceQueryService Reads(HttpContext context) => context.RequestServices.GetRequiredService<TraceQueryService>();

    private static Task<string?> ResolveTenantAsync(HttpContext context) => JaegerHttp.ResolveTenantAsync(context, WriteErrorAsync);

    private static Task WriteTracesAsync(HttpContext context, IReadOnlyList<IReadOnlyList<Span>> traces, bool adjust)
    {
        var prepared = traces.Select(t => TraceAdjuster.Prepare(t, adjust)).ToList();
        return WriteEnvelopeAsync(context, 0, w =>
        {
            w.WriteStartArray();
            foreach (var trace in prepared)
            {
                JaegerJsonWriter.WriteTrace(w, trace);
            }

            w.WriteEndArray();
        });
    }

    /// <summary>
    /// Jaeger's structuredResponse; <c>total</c> is set only by the services and operations lists. <c>errors</c> names
    /// the regions a federated read answered without (503 each, as Jaeger reports a partial answer).
    /// </summary>
    private static Task WriteEnvelopeAsync(HttpContext context, int total, Action<Utf8JsonWriter> writeData) =>
        JaegerHttp.WriteJsonAsync(context, StatusCodes.Status200OK, "application/json", JaegerHttp.WantsPrettyPrint(context.Request), w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("data");
            writeData(w);
            w.WriteNumber("total", total);
            w.WriteNumber("limit", 0);
            w.WriteNumber("offset", 0);
            if (Regions.RegionReadScope.Current?.Warnings is { Count: > 0 } warnings)
            {
                w.WriteStartArray("errors");
                foreach (var warning in warnings)
                {
                    w.WriteStartObject();
                    w.WriteNumber("code", StatusCodes.Status503ServiceUnavailable);
                    w.WriteString("msg", warning);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }
            else
            {
                w.WriteNull("errors");
            }

            w.WriteEndObject();
        });

    private static Task WriteErrorAsync(HttpContext context, int statusCode, string message) =>
        JaegerHttp.WriteGoErrorAsync(context, statusCode, w =>
        {
            w.WriteStartObject();
            w.WriteNull("data");
            w.WriteNumber("total", 0);
            w.WriteNumber("limit", 0);
            w.WriteNumber("offset", 0);
            w.WriteStartArray("errors");
            w.WriteStartObject();
            w.WriteNumber("code", statusCode);
            w.WriteString("msg", message);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        });

    internal sealed record Search(TraceQuery Query, List<TraceId> TraceIds, bool Raw);
}
