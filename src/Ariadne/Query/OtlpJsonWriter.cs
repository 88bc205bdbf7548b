using System.Globalization;
using System.Text.Json;
using Ariadne.GoCompat;
using Ariadne.Model;

namespace Ariadne.Query;

/// <summary>
/// How ids and enums are spelled. OTLP's JSON mapping (Jaeger's api_v3 gateway) writes hex ids and enums as numbers;
/// Tempo marshals its copy of the OTLP protos with gogo's jsonpb, which writes bytes as base64 and enums by name
/// (<c>"kind": "SPAN_KIND_SERVER"</c>), and its v1 trace API names the list <c>batches</c>.
/// </summary>
public sealed record OtlpJsonStyle(string ResourceSpansName, bool Base64Ids, bool EnumNames)
{
    public static OtlpJsonStyle Otlp { get; } = new("resourceSpans", Base64Ids: false, EnumNames: false);

    /// <summary>Tempo's <c>/api/v2/traces/{id}</c> (<c>tempopb.Trace</c> through jsonpb).</summary>
    public static OtlpJsonStyle Tempo { get; } = new("resourceSpans", Base64Ids: true, EnumNames: true);

    /// <summary>Tempo's <c>/api/traces/{id}</c>: as <see cref="Tempo"/>, with the list called <c>batches</c> (tempopb.MarshalToJSONV1).</summary>
    public static OtlpJsonStyle TempoV1 { get; } = new("batches", Base64Ids: true, EnumNames: true);
}

/// <summary>
/// Writes spans as OTLP/JSON <c>TracesData</c> (opentelemetry-proto's JSON mapping, as Jaeger's api_v3 gateway emits
/// it): camelCase fields in proto order, hex ids, 64-bit integers as strings, enums as numbers, and fields at their
/// default value left out, except messages, which are always written (<c>"resource": {}</c>, <c>"status": {}</c>).
/// Spans sharing a resource instance form one ResourceSpans, and spans sharing a scope one ScopeSpans.
/// </summary>
public static class OtlpJsonWriter
{
    private static readonly string[] s_kindNames =
        ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"];

    private static readonly string[] s_statusNames = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

    /// <summary>Writes <c>{"resourceSpans": [...]}</c>.</summary>
    public static void WriteTracesData(Utf8JsonWriter w, IEnumerable<Span> spans) => WriteTracesData(w, spans, OtlpJsonStyle.Otlp);

    /// <summary>Writes <c>{"resourceSpans": [...]}</c> (or the style's name for the list), ids and enums in the style's spelling.</summary>
    public static void WriteTracesData(Utf8JsonWriter w, IEnumerable<Span> spans, OtlpJsonStyle style)
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
            w.WriteStartArray(style.ResourceSpansName);
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
                        WriteSpan(w, span, style);
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

    private static void WriteSpan(Utf8JsonWriter w, Span span, OtlpJsonStyle style)
    {
        w.WriteStartObject();
        WriteTraceId(w, "traceId", span.TraceId, style);
        WriteSpanId(w, "spanId", span.SpanId, style);
        WriteString(w, "traceState", span.TraceState);
        if (!span.ParentSpanId.IsEmpty)
        {
            WriteSpanId(w, "parentSpanId", span.ParentSpanId, style);
        }

        WriteUInt(w, "flags", span.Flags);
        WriteString(w, "name", span.Name);
        if (span.Kind != SpanKind.Unspecified)
        {
            WriteEnum(w, "kind", (int)span.Kind, s_kindNames, style);
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
                WriteTraceId(w, "traceId", link.TraceId, style);
                WriteSpanId(w, "spanId", link.SpanId, style);
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
            WriteEnum(w, "code", (int)span.StatusCode, s_statusNames, style);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteTraceId(Utf8JsonWriter w, string name, TraceId id, OtlpJsonStyle style)
    {
        if (style.Base64Ids)
        {
            w.WriteBase64String(name, id.ToBytes());
        }
        else
        {
            w.WriteString(name, id.ToHex());
        }
    }

    private static void WriteSpanId(Utf8JsonWriter w, string name, SpanId id, OtlpJsonStyle style)
    {
        if (style.Base64Ids)
        {
            Span<byte> bytes = stackalloc byte[SpanId.ByteLength];
            id.WriteBytes(bytes);
            w.WriteBase64String(name, bytes);
        }
        else
        {
            w.WriteString(name, id.ToHex());
        }
    }

    /// <summary>An enum by name where the style says so and the value has one (jsonpb writes an unknown value as its number).</summary>
    private static void WriteEnum(Utf8JsonWriter w, string name, int value, string[] names, OtlpJsonStyle style)
    {
        if (style.EnumNames && value < names.Length)
        {
            w.WriteString(name, names[value]);
        }
        else
        {
            w.WriteNumber(name, value);
        }
    }

    public static void WriteAttributes(Utf8JsonWriter w, string name, KeyValue[] attributes)
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
