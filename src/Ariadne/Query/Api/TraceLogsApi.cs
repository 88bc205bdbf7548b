using System.Text.Json;
using Ariadne.Model;
using Ariadne.Tenancy;

namespace Ariadne.Query.Api;

/// <summary><c>GET /api/ariadne/traces/{traceId}/logs</c>: the OTLP log records that carry a trace's id.</summary>
internal static class TraceLogsApi
{
    public static async Task<IResult> GetAsync(string traceId, HttpRequest request, TraceQueryService query, TenantResolver tenants, CancellationToken ct)
    {
        if (tenants.Resolve(request) is not { } tenant)
        {
            return AnalysisApi.BadTenant(tenants);
        }

        if (!TraceId.TryParseHex(traceId, out var id))
        {
            return AnalysisApi.BadTraceId(traceId);
        }

        var records = await query.GetLogsAsync(tenant, id, ct);
        return Results.Json(new
        {
            traceId = id.ToHex(),
            total = records.Count,
            logs = records.Select(ToJson),
        });
    }

    /// <summary>
    /// A record as the API returns it: times in microseconds since the Unix epoch (as Ariadne's and Jaeger's APIs),
    /// body and attribute values as plain JSON values, severity as OTLP's number and text plus its level name.
    /// </summary>
    private static object ToJson(LogRecord record) => new
    {
        time = AnalysisApi.Micros(record.EffectiveTimeUnixNano),
        observedTime = AnalysisApi.Micros(record.ObservedTimeUnixNano),
        spanId = record.SpanId.IsEmpty ? null : record.SpanId.ToHex(),
        severityNumber = record.SeverityNumber,
        severityText = Severity.Text(record),
        severity = Severity.LevelOf(record.SeverityNumber).ToString().ToLowerInvariant(),
        eventName = record.EventName.Length == 0 ? null : record.EventName,
        body = ToJsonValue(record.Body),
        attributes = ToJsonObject(record.Attributes),
        droppedAttributesCount = record.DroppedAttributesCount,
        flags = record.Flags,
        service = record.ServiceName,
        resource = ToJsonObject(record.Resource.Attributes),
        scope = record.Scope.Name.Length == 0 ? null : new { name = record.Scope.Name, version = record.Scope.Version },
    };

    private static Dictionary<string, JsonElement?> ToJsonObject(KeyValue[] attributes)
    {
        var result = new Dictionary<string, JsonElement?>(attributes.Length);
        foreach (var attribute in attributes)
        {
            result[attribute.Key] = ToJsonValue(attribute.Value);
        }

        return result;
    }

    private static JsonElement? ToJsonValue(AnyValue value) =>
        value.Type == AnyValueType.Empty ? null : JsonSerializer.Deserialize<JsonElement>(AnyValueJson.Serialize(value));
}
