using System.Text.Json;
using Ariadne.Analysis;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Storage;
using Ariadne.Storage.Embedded.Logs;
using Ariadne.Storage.ClickHouse;
using Ariadne.Storage.Memory;
using Ariadne.Tenancy;

namespace Ariadne.Logs;

/// <summary>
/// Log records end to end: the store of the configured engine, the ingest pipeline the OTLP receivers hand records
/// to, and <c>GET /api/ariadne/traces/{traceId}/logs</c>.
/// </summary>
public static class LogsExtensions
{
    public static IServiceCollection AddAriadneLogs(this IServiceCollection services, AriadneOptions options)
    {
        services.AddSingleton(provider => CreateStore(options, provider));
        services.AddSingleton<LogIngestPipeline>();
        return services;
    }

    public static void MapTraceLogsApi(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/ariadne/traces/{traceId}/logs", GetTraceLogsAsync).RequireListener(Listener.Query);

    private static ILogStore CreateStore(AriadneOptions options, IServiceProvider provider)
    {
        var loggers = provider.GetRequiredService<ILoggerFactory>();
        switch (options.Storage)
        {
            case "embedded":
                // The span store first: it checks (or creates) the data directory's format, and must see it empty.
                provider.GetRequiredService<ISpanStore>();
                return EmbeddedLogStore.Open(options.DataDirectory, options.Embedded, options.Logs.SegmentBytes, TimeProvider.System,
                    loggers.CreateLogger<EmbeddedLogStore>());
            case "memory":
                return new MemoryLogStore(options.Logs.MemoryMaxRecords);
            case "clickhouse":
                return new ClickHouseLogStore((ClickHouseSpanStore)provider.GetRequiredService<ISpanStore>());
            default:
                throw new InvalidOperationException($"Storage: the '{options.Storage}' engine has no log store; use embedded, memory or clickhouse.");
        }
    }

    private static async Task<IResult> GetTraceLogsAsync(string traceId, HttpRequest request, ILogStore store, TenantResolver tenants, CancellationToken ct)
    {
        if (tenants.Resolve(request) is not { } tenant)
        {
            return AnalysisApi.BadTenant(tenants);
        }

        if (!TraceId.TryParseHex(traceId, out var id))
        {
            return Results.BadRequest(new { error = $"'{traceId}' is not a trace id: use 1 to 32 hex digits." });
        }

        var records = await store.GetTraceLogsAsync(tenant, id, ct);
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
