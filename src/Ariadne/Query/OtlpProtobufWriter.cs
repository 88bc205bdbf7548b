using Ariadne.Model;

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
    private const int TracesDataResourceSpans = 1;
    private const int ResourceSpansResource = 1;
    private const int ResourceSpansScopeSpans = 2;
    private const int ResourceAttributes = 1;
    private const int ResourceDroppedAttributesCount = 2;
    private const int ScopeSpansScope = 1;
    private const int ScopeSpansSpans = 2;
    private const int ScopeName = 1;
    private const int ScopeVersion = 2;
    private const int ScopeAttributes = 3;
    private const int SpanTraceId = 1;
    private const int SpanSpanId = 2;
    private const int SpanTraceState = 3;
    private const int SpanParentSpanId = 4;
    private const int SpanName = 5;
    private const int SpanKindField = 6;
    private const int SpanStartTime = 7;
    private const int SpanEndTime = 8;
    private const int SpanAttributes = 9;
    private const int SpanDroppedAttributesCount = 10;
    private const int SpanEvents = 11;
    private const int SpanDroppedEventsCount = 12;
    private const int SpanLinks = 13;
    private const int SpanDroppedLinksCount = 14;
    private const int SpanStatus = 15;
    private const int SpanFlags = 16;
    private const int EventTime = 1;
    private const int EventName = 2;
    private const int EventAttributes = 3;
    private const int EventDroppedAttributesCount = 4;
    private const int LinkTraceId = 1;
    private const int LinkSpanId = 2;
    private const int LinkTraceState = 3;
    private const int LinkAttributes = 4;
    private const int LinkFlags = 6;
    private const int StatusMessage = 2;
    private const int StatusCodeField = 3;
    private const int KeyValueKey = 1;
    private const int KeyValueValue = 2;
    private const int AnyValueString = 1;
    private const int AnyValueBool = 2;
    private const int AnyValueInt = 3;
    private const int AnyValueDouble = 4;
    private const int AnyValueArray = 5;
    private const int AnyValueKeyValueList = 6;
    private const int AnyValueBytes = 7;
    private const int ArrayValueValues = 1;
    private const int KeyValueListValues = 1;

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
