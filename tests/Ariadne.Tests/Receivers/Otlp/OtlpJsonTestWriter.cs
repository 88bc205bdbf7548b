using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PCommon = OpenTelemetry.Proto.Common.V1;
using PTrace = OpenTelemetry.Proto.Trace.V1;

namespace Ariadne.Tests.Receivers.Otlp;

/// <summary>
/// Writes a generated request as OTLP/JSON, choosing at random among everything the spec lets a sender do:
/// lowerCamelCase or snake_case names, 64-bit integers as numbers or strings, enums as numbers or names, hex ids in
/// either case, fields in any order (a resource after its spans), explicit nulls and unknown fields.
/// </summary>
public sealed class OtlpJsonTestWriter(Random random)
{
    public byte[] Write(ExportTraceServiceRequest request)
    {
        using var stream = new MemoryStream();
        // Half the time non-ASCII is written raw (read in place), half the time \u-escaped (unescaped by the reader).
        var options = new JsonWriterOptions { Encoder = random.Next(2) == 0 ? JavaScriptEncoder.UnsafeRelaxedJsonEscaping : null };
        using (var writer = new Utf8JsonWriter(stream, options))
        {
            Object(writer, [("resourceSpans", "resource_spans", w => Array(w, request.ResourceSpans, ResourceSpans))]);
        }

        return stream.ToArray();
    }

    private void ResourceSpans(Utf8JsonWriter writer, PTrace.ResourceSpans resourceSpans)
    {
        var fields = new List<(string, string, Action<Utf8JsonWriter>)>
        {
            ("scopeSpans", "scope_spans", w => Array(w, resourceSpans.ScopeSpans, ScopeSpans)),
            ("schemaUrl", "schema_url", w => w.WriteStringValue(resourceSpans.SchemaUrl)),
        };
        if (resourceSpans.Resource is { } resource)
        {
            fields.Add(("resource", "resource", w => Object(w,
            [
                ("attributes", "attributes", w2 => Array(w2, resource.Attributes, KeyValue)),
                ("droppedAttributesCount", "dropped_attributes_count", w2 => UInt(w2, resource.DroppedAttributesCount)),
            ])));
        }

        Object(writer, fields);
    }

    private void ScopeSpans(Utf8JsonWriter writer, PTrace.ScopeSpans scopeSpans)
    {
        var fields = new List<(string, string, Action<Utf8JsonWriter>)> { ("spans", "spans", w => Array(w, scopeSpans.Spans, Span)) };
        if (scopeSpans.Scope is { } scope)
        {
            fields.Add(("scope", "scope", w => Object(w,
            [
                ("name", "name", w2 => w2.WriteStringValue(scope.Name)),
                ("version", "version", w2 => w2.WriteStringValue(scope.Version)),
                ("attributes", "attributes", w2 => Array(w2, scope.Attributes, KeyValue)),
            ])));
        }

        Object(writer, fields);
    }

    private void Span(Utf8JsonWriter writer, PTrace.Span span)
    {
        var fields = new List<(string, string, Action<Utf8JsonWriter>)>
        {
            ("traceId", "trace_id", w => Hex(w, span.TraceId)),
            ("spanId", "span_id", w => Hex(w, span.SpanId)),
            ("parentSpanId", "parent_span_id", w => Hex(w, span.ParentSpanId)),
            ("traceState", "trace_state", w => w.WriteStringValue(span.TraceState)),
            ("flags", "flags", w => UInt(w, span.Flags)),
            ("name", "name", w => w.WriteStringValue(span.Name)),
            ("kind", "kind", w => Enum(w, (int)span.Kind, s_spanKinds)),
            ("startTimeUnixNano", "start_time_unix_nano", w => UInt(w, span.StartTimeUnixNano)),
            ("endTimeUnixNano", "end_time_unix_nano", w => UInt(w, span.EndTimeUnixNano)),
            ("attributes", "attributes", w => Array(w, span.Attributes, KeyValue)),
            ("droppedAttributesCount", "dropped_attributes_count", w => UInt(w, span.DroppedAttributesCount)),
            ("events", "events", w => Array(w, span.Events, Event)),
            ("droppedEventsCount", "dropped_events_count", w => UInt(w, span.DroppedEventsCount)),
            ("links", "links", w => Array(w, span.Links, Link)),
            ("droppedLinksCount", "dropped_links_count", w => UInt(w, span.DroppedLinksCount)),
        };
        if (span.Status is { } status)
        {
            fields.Add(("status", "status", w => Object(w,
            [
                ("message", "message", w2 => w2.WriteStringValue(status.Message)),
                ("code", "code", w2 => Enum(w2, (int)status.Code, s_statusCodes)),
            ])));
        }

        Object(writer, fields);
    }

    private void Event(Utf8JsonWriter writer, PTrace.Span.Types.Event e) => Object(writer,
    [
        ("timeUnixNano", "time_unix_nano", w => UInt(w, e.TimeUnixNano)),
        ("name", "name", w => w.WriteStringValue(e.Name)),
        ("attributes", "attributes", w => Array(w, e.Attributes, KeyValue)),
        ("droppedAttributesCount", "dropped_attributes_count", w => UInt(w, e.DroppedAttributesCount)),
    ]);

    private void Link(Utf8JsonWriter writer, PTrace.Span.Types.Link link) => Object(writer,
    [
        ("traceId", "trace_id", w => Hex(w, link.TraceId)),
        ("spanId", "span_id", w => Hex(w, link.SpanId)),
        ("traceState", "trace_state", w => w.WriteStringValue(link.TraceState)),
        ("attributes", "attributes", w => Array(w, link.Attributes, KeyValue)),
        ("droppedAttributesCount", "dropped_attributes_count", w => UInt(w, link.DroppedAttributesCount)),
        ("flags", "flags", w => UInt(w, link.Flags)),
    ]);

    private void KeyValue(Utf8JsonWriter writer, PCommon.KeyValue keyValue)
    {
        var fields = new List<(string, string, Action<Utf8JsonWriter>)> { ("key", "key", w => w.WriteStringValue(keyValue.Key)) };
        if (keyValue.Value is { } value)
        {
            fields.Add(("value", "value", w => AnyValue(w, value)));
        }

        Object(writer, fields);
    }

    private void AnyValue(Utf8JsonWriter writer, PCommon.AnyValue value)
    {
        (string, string, Action<Utf8JsonWriter>)[] field = value.ValueCase switch
        {
            PCommon.AnyValue.ValueOneofCase.StringValue => [("stringValue", "string_value", w => w.WriteStringValue(value.StringValue))],
            PCommon.AnyValue.ValueOneofCase.BoolValue => [("boolValue", "bool_value", w => w.WriteBooleanValue(value.BoolValue))],
            PCommon.AnyValue.ValueOneofCase.IntValue => [("intValue", "int_value", w => Int(w, value.IntValue))],
            PCommon.AnyValue.ValueOneofCase.DoubleValue => [("doubleValue", "double_value", w => Double(w, value.DoubleValue))],
            PCommon.AnyValue.ValueOneofCase.BytesValue => [("bytesValue", "bytes_value", w => w.WriteBase64StringValue(value.BytesValue.Span))],
            PCommon.AnyValue.ValueOneofCase.ArrayValue =>
                [("arrayValue", "array_value", w => Object(w, [("values", "values", w2 => Array(w2, value.ArrayValue.Values, AnyValue))]))],
            PCommon.AnyValue.ValueOneofCase.KvlistValue =>
                [("kvlistValue", "kvlist_value", w => Object(w, [("values", "values", w2 => Array(w2, value.KvlistValue.Values, KeyValue))]))],
            _ => [],
        };
        Object(writer, field);
    }

    private void Object(Utf8JsonWriter writer, IList<(string CamelCase, string SnakeCase, Action<Utf8JsonWriter> Write)> fields)
    {
        writer.WriteStartObject();
        foreach (var (camelCase, snakeCase, write) in fields.OrderBy(_ => random.Next()))
        {
            if (random.Next(8) == 0)
            {
                writer.WritePropertyName("x_vendor_" + camelCase);
                writer.WriteStartObject();
                writer.WriteStartArray("nested");
                writer.WriteNumberValue(1);
                writer.WriteNullValue();
                writer.WriteStartObject();
                writer.WriteString("resourceSpans", "not this one");
                writer.WriteEndObject();
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WritePropertyName(random.Next(2) == 0 ? camelCase : snakeCase);
            write(writer);
        }

        writer.WriteEndObject();
    }

    private void Array<T>(Utf8JsonWriter writer, IEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        writer.WriteStartArray();
        foreach (var item in items)
        {
            write(writer, item);
        }

        writer.WriteEndArray();
    }

    private void Hex(Utf8JsonWriter writer, ByteString id)
    {
        var hex = Convert.ToHexString(id.Span);
        writer.WriteStringValue(random.Next(2) == 0 ? hex.ToLowerInvariant() : hex);
    }

    private void UInt(Utf8JsonWriter writer, ulong value)
    {
        if (random.Next(2) == 0)
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    private void Int(Utf8JsonWriter writer, long value)
    {
        if (random.Next(2) == 0)
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void Double(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private void Enum(Utf8JsonWriter writer, int value, string[] names)
    {
        if (value < names.Length && random.Next(4) == 0)
        {
            writer.WriteStringValue(names[value]);
        }
        else
        {
            writer.WriteNumberValue(value);
        }
    }

    private static readonly string[] s_spanKinds =
        ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"];

    private static readonly string[] s_statusCodes = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
}
