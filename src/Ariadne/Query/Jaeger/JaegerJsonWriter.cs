using System.Globalization;
using System.Text.Json;
using Ariadne.GoCompat;
using Ariadne.Model;

namespace Ariadne.Query.Jaeger;

/// <summary>
/// Writes traces in the JSON model of Jaeger's HTTP API (<c>internal/uimodel</c>), translating OTLP spans the way
/// Jaeger does (opentelemetry-collector-contrib <c>pkg/translator/jaeger</c>): span kind, status and trace state become
/// tags, the scope becomes <c>otel.scope.*</c> tags, events become logs, links become references, and resources
/// become the trace's <c>processes</c> map, keyed p1, p2… in order of first use.
/// </summary>
internal static class JaegerJsonWriter
{
    // Jaeger writes integers beyond JavaScript's safe range as strings, so the UI does not round them.
    private const long JsMaxSafeInteger = (1L << 53) - 1;

    /// <summary>Jaeger prints a trace id as 16 hex digits when its high half is zero, else 32.</summary>
    public static string FormatTraceId(TraceId id) => id.High == 0 ? id.Low.ToString("x16", CultureInfo.InvariantCulture) : id.ToHex();

    /// <summary>One trace of spans prepared by <see cref="TraceAdjuster.Prepare"/>.</summary>
    public static void WriteTrace(Utf8JsonWriter w, IReadOnlyList<Span> spans)
    {
        var processes = new List<(string Key, Resource Resource, List<KeyValue> Tags)>();
        w.WriteStartObject();
        w.WriteString("traceID", spans.Count > 0 ? FormatTraceId(spans[0].TraceId) : string.Empty);
        w.WriteStartArray("spans");
        foreach (var span in spans)
        {
            WriteSpan(w, span, ProcessKey(processes, span.Resource));
        }

        w.WriteEndArray();
        w.WriteStartObject("processes");
        // Go writes map keys sorted as strings: p1, p10, p2.
        foreach (var (key, resource, tags) in processes.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WriteStartObject(key);
            w.WriteString("serviceName", resource.ServiceName);
            w.WriteStartArray("tags");
            foreach (var tag in tags)
            {
                WriteTag(w, tag.Key, tag.Value);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteNull("warnings");
        w.WriteEndObject();
    }

    private static string ProcessKey(List<(string Key, Resource Resource, List<KeyValue> Tags)> processes, Resource resource)
    {
        var tags = resource.Attributes.Where(kv => kv.Key != TraceAdjuster.ServiceNameKey).ToList();
        foreach (var process in processes)
        {
            if (process.Resource.ServiceName == resource.ServiceName && process.Tags.SequenceEqual(tags))
            {
                return process.Key;
            }
        }

        var key = "p" + (processes.Count + 1).ToString(CultureInfo.InvariantCulture);
        processes.Add((key, resource, tags));
        return key;
    }

    private static void WriteSpan(Utf8JsonWriter w, Span span, string processId)
    {
        w.WriteStartObject();
        w.WriteString("traceID", FormatTraceId(span.TraceId));
        w.WriteString("spanID", span.SpanId.ToHex());
        w.WriteString("operationName", span.Name);
        WriteReferences(w, span);
        w.WriteNumber("startTime", Microseconds(span.StartTimeUnixNano));
        w.WriteNumber("duration", Math.Max(0, span.EndTimeUnixNano - span.StartTimeUnixNano) / 1000);
        WriteTags(w, span);
        w.WriteStartArray("logs");
        foreach (var e in span.Events)
        {
            w.WriteStartObject();
            w.WriteNumber("timestamp", Microseconds(e.TimeUnixNano));
            w.WriteStartArray("fields");
            if (e.Name.Length > 0 && !e.Attributes.Any(kv => kv.Key == "event"))
            {
                WriteTag(w, "event", AnyValue.FromString(e.Name));
            }

            foreach (var kv in e.Attributes)
            {
                WriteTag(w, kv.Key, kv.Value);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteString("processID", processId);
        var warnings = TraceAdjuster.GetWarnings(span);
        if (warnings.Count == 0)
        {
            w.WriteNull("warnings");
        }
        else
        {
            w.WriteStartArray("warnings");
            foreach (var warning in warnings)
            {
                w.WriteStringValue(warning);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void WriteReferences(Utf8JsonWriter w, Span span)
    {
        var references = new List<(string Type, TraceId TraceId, SpanId SpanId)>();
        if (!span.ParentSpanId.IsEmpty)
        {
            references.Add(("CHILD_OF", span.TraceId, span.ParentSpanId));
        }

        foreach (var link in span.Links)
        {
            var type = link.Attributes.Any(kv => kv.Key == "opentracing.ref_type" && kv.Value.Type == AnyValueType.String && kv.Value.AsString == "child_of")
                ? "CHILD_OF"
                : "FOLLOWS_FROM";
            if (!span.ParentSpanId.IsEmpty && link.TraceId == span.TraceId && link.SpanId == span.ParentSpanId)
            {
                // A link to the parent restates the parent reference, possibly with another type.
                references[0] = (type, span.TraceId, span.ParentSpanId);
                continue;
            }

            references.Add((type, link.TraceId, link.SpanId));
        }

        w.WriteStartArray("references");
        foreach (var (type, traceId, spanId) in references)
        {
            w.WriteStartObject();
            w.WriteString("refType", type);
            w.WriteString("traceID", FormatTraceId(traceId));
            w.WriteString("spanID", spanId.ToHex());
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteTags(Utf8JsonWriter w, Span span)
    {
        w.WriteStartArray("tags");
        if (span.Scope.Name.Length > 0)
        {
            WriteTag(w, "otel.scope.name", AnyValue.FromString(span.Scope.Name));
        }

        if (span.Scope.Version.Length > 0)
        {
            WriteTag(w, "otel.scope.version", AnyValue.FromString(span.Scope.Version));
        }

        foreach (var kv in span.Attributes)
        {
            if (kv.Key != TraceAdjuster.WarningsAttribute)
            {
                WriteTag(w, kv.Key, kv.Value);
            }
        }

        if (span.Kind != SpanKind.Unspecified)
        {
            WriteTag(w, "span.kind", AnyValue.FromString(SpanMatcher.SpanKindName(span.Kind)));
        }

        if (span.StatusCode != StatusCode.Unset)
        {
            WriteTag(w, "otel.status_code", AnyValue.FromString(SpanMatcher.StatusCodeName(span.StatusCode)));
        }

        if (span.StatusCode == StatusCode.Error)
        {
            WriteTag(w, "error", AnyValue.FromBool(true));
        }

        if (span.StatusMessage.Length > 0)
        {
            WriteTag(w, "otel.status_description", AnyValue.FromString(span.StatusMessage));
        }

        if (span.TraceState.Length > 0)
        {
            WriteTag(w, "w3c.tracestate", AnyValue.FromString(span.TraceState));
        }

        w.WriteEndArray();
    }

    private static void WriteTag(Utf8JsonWriter w, string key, AnyValue value)
    {
        w.WriteStartObject();
        w.WriteString("key", key);
        switch (value.Type)
        {
            case AnyValueType.Bool:
                w.WriteString("type", "bool");
                w.WriteBoolean("value", value.AsBool);
                break;
            case AnyValueType.Int:
                w.WriteString("type", "int64");
                if (value.AsInt is > JsMaxSafeInteger or < -JsMaxSafeInteger)
                {
                    w.WriteString("value", value.AsInt.ToString(CultureInfo.InvariantCulture));
                }
                else
                {
                    w.WriteNumber("value", value.AsInt);
                }

                break;
            case AnyValueType.Double:
                w.WriteString("type", "float64");
                GoJson.WriteDouble(w, "value", value.AsDouble);
                break;
            case AnyValueType.Bytes:
                w.WriteString("type", "binary");
                w.WriteBase64String("value", value.AsBytes);
                break;
            default:
                // Strings, and arrays and maps as JSON text; Jaeger has no other types.
                w.WriteString("type", "string");
                w.WriteString("value", value.ToString());
                break;
        }

        w.WriteEndObject();
    }

    private static long Microseconds(long unixNanos) => unixNanos / 1000;
}
