using Ariadne.Model;
using static Ariadne.Model.OtlpFieldNumbers;

namespace Ariadne.Query;

/// <summary>
/// Writes spans as an OTLP <c>TracesData</c> in protobuf, grouped as <see cref="OtlpJsonWriter"/> groups them (one
/// ResourceSpans per resource instance, one ScopeSpans per scope). Tempo answers <c>Accept: application/protobuf</c>
/// with a <c>tempopb.Trace</c>, whose field 1 is the same repeated ResourceSpans, so this is also Tempo's wire form;
/// Grafana reads it with the collector's <c>ptrace.ProtoUnmarshaler</c>. Field numbers from opentelemetry-proto's
/// trace/v1/trace.proto and common/v1/common.proto; fields at their default value are left out.
/// </summary>
public static class OtlpProtobufWriter
{
    /// <summary>The encoded <c>TracesData</c> of <paramref name="spans"/>.</summary>
    public static byte[] WriteTracesData(IEnumerable<Span> spans)
    {
        var writer = new ProtobufWriter(16 * 1024);
        foreach (var resourceGroup in spans.GroupBy(s => s.Resource, ReferenceEqualityComparer.Instance))
        {
            var resourceSpans = writer.BeginMessage(TracesDataResourceSpans);
            var resource = (Resource)resourceGroup.Key!;
            var resourceMessage = writer.BeginMessage(ResourceSpansResource);
            WriteAttributes(writer, ResourceAttributes, resource.Attributes);
            WriteUInt(writer, ResourceDroppedAttributesCount, resource.DroppedAttributesCount);
            writer.EndMessage(resourceMessage);
            foreach (var scopeGroup in resourceGroup.GroupBy(s => s.Scope, ReferenceEqualityComparer.Instance))
            {
                var scopeSpans = writer.BeginMessage(ResourceSpansScopeSpans);
                var scope = (InstrumentationScope)scopeGroup.Key!;
                var scopeMessage = writer.BeginMessage(ScopeSpansScope);
                WriteString(writer, ScopeName, scope.Name);
                WriteString(writer, ScopeVersion, scope.Version);
                WriteAttributes(writer, ScopeAttributes, scope.Attributes);
                writer.EndMessage(scopeMessage);
                foreach (var span in scopeGroup)
                {
                    WriteSpan(writer, span);
                }

                writer.EndMessage(scopeSpans);
            }

            writer.EndMessage(resourceSpans);
        }

        return writer.ToArray();
    }

    /// <summary>A <c>KeyValue</c> as field <paramref name="field"/> of the enclosing message.</summary>
    internal static void WriteKeyValue(ProtobufWriter writer, int field, KeyValue attribute)
    {
        var keyValue = writer.BeginMessage(field);
        writer.WriteStringField(KeyValueKey, attribute.Key);
        WriteAnyValue(writer, KeyValueValue, attribute.Value);
        writer.EndMessage(keyValue);
    }

    private static void WriteSpan(ProtobufWriter writer, Span span)
    {
        Span<byte> id = stackalloc byte[TraceId.ByteLength];
        var message = writer.BeginMessage(ScopeSpansSpans);
        span.TraceId.WriteBytes(id);
        writer.WriteBytesField(SpanTraceId, id);
        span.SpanId.WriteBytes(id);
        writer.WriteBytesField(SpanSpanId, id[..SpanId.ByteLength]);
        WriteString(writer, SpanTraceState, span.TraceState);
        if (!span.ParentSpanId.IsEmpty)
        {
            span.ParentSpanId.WriteBytes(id);
            writer.WriteBytesField(SpanParentSpanId, id[..SpanId.ByteLength]);
        }

        WriteString(writer, SpanName, span.Name);
        WriteUInt(writer, SpanKindField, (uint)span.Kind);
        writer.WriteFixed64Field(SpanStartTime, (ulong)span.StartTimeUnixNano);
        writer.WriteFixed64Field(SpanEndTime, (ulong)span.EndTimeUnixNano);
        WriteAttributes(writer, SpanAttributes, span.Attributes);
        WriteUInt(writer, SpanDroppedAttributesCount, span.DroppedAttributesCount);
        foreach (var spanEvent in span.Events)
        {
            var eventMessage = writer.BeginMessage(SpanEvents);
            writer.WriteFixed64Field(EventTime, (ulong)spanEvent.TimeUnixNano);
            WriteString(writer, EventName, spanEvent.Name);
            WriteAttributes(writer, EventAttributes, spanEvent.Attributes);
            WriteUInt(writer, EventDroppedAttributesCount, spanEvent.DroppedAttributesCount);
            writer.EndMessage(eventMessage);
        }

        WriteUInt(writer, SpanDroppedEventsCount, span.DroppedEventsCount);
        foreach (var link in span.Links)
        {
            var linkMessage = writer.BeginMessage(SpanLinks);
            link.TraceId.WriteBytes(id);
            writer.WriteBytesField(LinkTraceId, id);
            link.SpanId.WriteBytes(id);
            writer.WriteBytesField(LinkSpanId, id[..SpanId.ByteLength]);
            WriteString(writer, LinkTraceState, link.TraceState);
            WriteAttributes(writer, LinkAttributes, link.Attributes);
            if (link.Flags != 0)
            {
                writer.WriteFixed32Field(LinkFlags, link.Flags);
            }

            writer.EndMessage(linkMessage);
        }

        WriteUInt(writer, SpanDroppedLinksCount, span.DroppedLinksCount);
        var status = writer.BeginMessage(SpanStatus);
        WriteString(writer, StatusMessage, span.StatusMessage);
        WriteUInt(writer, StatusCodeField, (uint)span.StatusCode);
        writer.EndMessage(status);
        if (span.Flags != 0)
        {
            writer.WriteFixed32Field(SpanFlags, span.Flags);
        }

        writer.EndMessage(message);
    }

    private static void WriteAttributes(ProtobufWriter writer, int field, KeyValue[] attributes)
    {
        foreach (var attribute in attributes)
        {
            WriteKeyValue(writer, field, attribute);
        }
    }

    private static void WriteAnyValue(ProtobufWriter writer, int field, AnyValue value)
    {
        var message = writer.BeginMessage(field);
        switch (value.Type)
        {
            case AnyValueType.String:
                writer.WriteStringField(AnyValueString, value.AsString);
                break;
            case AnyValueType.Bool:
                writer.WriteVarintField(AnyValueBool, value.AsBool ? 1UL : 0UL);
                break;
            case AnyValueType.Int:
                writer.WriteVarintField(AnyValueInt, (ulong)value.AsInt);
                break;
            case AnyValueType.Double:
                writer.WriteDoubleField(AnyValueDouble, value.AsDouble);
                break;
            case AnyValueType.Bytes:
                writer.WriteBytesField(AnyValueBytes, value.AsBytes);
                break;
            case AnyValueType.Array:
                var array = writer.BeginMessage(AnyValueArray);
                foreach (var item in value.AsArray)
                {
                    WriteAnyValue(writer, ArrayValueValues, item);
                }

                writer.EndMessage(array);
                break;
            case AnyValueType.KeyValueList:
                var list = writer.BeginMessage(AnyValueKeyValueList);
                foreach (var item in value.AsKeyValueList)
                {
                    WriteKeyValue(writer, KeyValueListValues, item);
                }

                writer.EndMessage(list);
                break;
        }

        writer.EndMessage(message);
    }

    private static void WriteString(ProtobufWriter writer, int field, string value)
    {
        if (value.Length > 0)
        {
            writer.WriteStringField(field, value);
        }
    }

    private static void WriteUInt(ProtobufWriter writer, int field, uint value)
    {
        if (value != 0)
        {
            writer.WriteVarintField(field, value);
        }
    }
}
