using System.Globalization;
using System.Text.Json;
using Ariadne.GoCompat;
using Ariadne.Model;

namespace Ariadne.Query;

/// <summary>
/// Writes spans as OTLP/JSON <c>TracesData</c> (opentelemetry-proto's JSON mapping, as Jaeger's api_v3 gateway emits
/// it): camelCase fields in proto order, hex ids, 64-bit integers as strings, enums as numbers, and fields at their
/// default value left out, except messages, which are always written (<c>"resource": {}</c>, <c>"status": {}</c>).
/// Spans sharing a resource instance form one ResourceSpans, and spans sharing a scope one ScopeSpans.
/// </summary>
public static class OtlpJsonWriter
{
    /// <summary>Writes <c>{"resourceSpans": [...]}</c>.</summary>
    public static void WriteTracesData(Utf8JsonWriter w, IEnumerable<Span> spans)
    {
        var groups = new List<(Resource Resource, List<(InstrumentationScope Scope, List<Span> Spans)> Scopes)>();
        foreach (var span in spans)
        {
            var group = groups.FindIndex(g => ReferenceEquals(g.Resource, span.Resource));
            if (group < 0)
            {
                groups.Add((span.Resource, []));
                group = groups.Count - 1;
            }

            var scopes = groups[group].Scopes;
            var scope = scopes.FindIndex(s => ReferenceEquals(s.Scope, span.Scope));
            if (scope < 0)
            {
                scopes.Add((span.Scope, []));
                scope = scopes.Count - 1;
            }

            scopes[scope].Spans.Add(span);
        }

        w.WriteStartObject();
        if (groups.Count > 0)
        {
            w.WriteStartArray("resourceSpans");
            foreach (var (resource, scopes) in groups)
            {
                w.WriteStartObject();
                w.WriteStartObject("resource");
                WriteAttributes(w, "attributes", resource.Attributes);
                WriteUInt(w, "droppedAttributesCount", resource.DroppedAttributesCount);
                w.WriteEndObject();
                w.WriteStartArray("scopeSpans");
                foreach (var (scope, scopeSpans) in scopes)
                {
                    w.WriteStartObject();
                    w.WriteStartObject("scope");
                    WriteString(w, "name", scope.Name);
                    WriteString(w, "version", scope.Version);
                    WriteAttributes(w, "attributes", scope.Attributes);
                    w.WriteEndObject();
                    w.WriteStartArray("spans");
                    foreach (var span in scopeSpans)
                    {
                        WriteSpan(w, span);
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void WriteSpan(Utf8JsonWriter w, Span span)
    {
        w.WriteStartObject();
        w.WriteString("traceId", span.TraceId.ToHex());
        w.WriteString("spanId", span.SpanId.ToHex());
        WriteString(w, "traceState", span.TraceState);
        if (!span.ParentSpanId.IsEmpty)
        {
            w.WriteString("parentSpanId", span.ParentSpanId.ToHex());
        }

        WriteUInt(w, "flags", span.Flags);
        WriteString(w, "name", span.Name);
        if (span.Kind != SpanKind.Unspecified)
        {
            w.WriteNumber("kind", (int)span.Kind);
        }

        WriteNanos(w, "startTimeUnixNano", span.StartTimeUnixNano);
        WriteNanos(w, "endTimeUnixNano", span.EndTimeUnixNano);
        WriteAttributes(w, "attributes", span.Attributes);
        WriteUInt(w, "droppedAttributesCount", span.DroppedAttributesCount);
        if (span.Events.Length > 0)
        {
            w.WriteStartArray("events");
            foreach (var e in span.Events)
            {
                w.WriteStartObject();
                WriteNanos(w, "timeUnixNano", e.TimeUnixNano);
                WriteString(w, "name", e.Name);
                WriteAttributes(w, "attributes", e.Attributes);
                WriteUInt(w, "droppedAttributesCount", e.DroppedAttributesCount);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        WriteUInt(w, "droppedEventsCount", span.DroppedEventsCount);
        if (span.Links.Length > 0)
        {
            w.WriteStartArray("links");
            foreach (var link in span.Links)
            {
                w.WriteStartObject();
                w.WriteString("traceId", link.TraceId.ToHex());
                w.WriteString("spanId", link.SpanId.ToHex());
                WriteString(w, "traceState", link.TraceState);
                WriteAttributes(w, "attributes", link.Attributes);
                WriteUInt(w, "flags", link.Flags);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        WriteUInt(w, "droppedLinksCount", span.DroppedLinksCount);
        w.WriteStartObject("status");
        WriteString(w, "message", span.StatusMessage);
        if (span.StatusCode != StatusCode.Unset)
        {
            w.WriteNumber("code", (int)span.StatusCode);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteAttributes(Utf8JsonWriter w, string name, KeyValue[] attributes)
    {
        if (attributes.Length == 0)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (var kv in attributes)
        {
            WriteKeyValue(w, kv);
        }

        w.WriteEndArray();
    }

    private static void WriteKeyValue(Utf8JsonWriter w, KeyValue kv)
    {
        w.WriteStartObject();
        WriteString(w, "key", kv.Key);
        w.WritePropertyName("value");
        WriteAnyValue(w, kv.Value);
        w.WriteEndObject();
    }

    private static void WriteAnyValue(Utf8JsonWriter w, AnyValue value)
    {
        w.WriteStartObject();
        switch (value.Type)
        {
            case AnyValueType.String:
                w.WriteString("stringValue", value.AsString);
                break;
            case AnyValueType.Bool:
                w.WriteBoolean("boolValue", value.AsBool);
                break;
            case AnyValueType.Int:
                w.WriteString("intValue", value.AsInt.ToString(CultureInfo.InvariantCulture));
                break;
            case AnyValueType.Double:
                GoJson.WriteDouble(w, "doubleValue", value.AsDouble);
                break;
            case AnyValueType.Bytes:
                w.WriteBase64String("bytesValue", value.AsBytes);
                break;
            case AnyValueType.Array:
                w.WriteStartObject("arrayValue");
                if (value.AsArray.Length > 0)
                {
                    w.WriteStartArray("values");
                    foreach (var item in value.AsArray)
                    {
                        WriteAnyValue(w, item);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
                break;
            case AnyValueType.KeyValueList:
                w.WriteStartObject("kvlistValue");
                if (value.AsKeyValueList.Length > 0)
                {
                    w.WriteStartArray("values");
                    foreach (var item in value.AsKeyValueList)
                    {
                        WriteKeyValue(w, item);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
                break;
        }

        w.WriteEndObject();
    }

    private static void WriteString(Utf8JsonWriter w, string name, string value)
    {
        if (value.Length > 0)
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteUInt(Utf8JsonWriter w, string name, uint value)
    {
        if (value != 0)
        {
            w.WriteNumber(name, value);
        }
    }

    private static void WriteNanos(Utf8JsonWriter w, string name, long value)
    {
        if (value != 0)
        {
            w.WriteString(name, ((ulong)value).ToString(CultureInfo.InvariantCulture));
        }
    }
}
