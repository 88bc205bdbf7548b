namespace Ariadne.Model;

/// <summary>
/// Field numbers of the OTLP trace messages, for the code that writes them by hand (the read side's
/// <c>TracesData</c> and the load generator's pre-encoded requests): opentelemetry-proto's
/// collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto and resource/v1/resource.proto.
/// Each name is the message, then the field.
/// </summary>
internal static class OtlpFieldNumbers
{
    public const int TracesDataResourceSpans = 1;
    public const int ResourceSpansResource = 1;
    public const int ResourceSpansScopeSpans = 2;
    public const int ResourceAttributes = 1;
    public const int ResourceDroppedAttributesCount = 2;
    public const int ScopeSpansScope = 1;
    public const int ScopeSpansSpans = 2;
    public const int ScopeName = 1;
    public const int ScopeVersion = 2;
    public const int ScopeAttributes = 3;
    public const int SpanTraceId = 1;
    public const int SpanSpanId = 2;
    public const int SpanTraceState = 3;
    public const int SpanParentSpanId = 4;
    public const int SpanName = 5;
    public const int SpanKindField = 6;
    public const int SpanStartTime = 7;
    public const int SpanEndTime = 8;
    public const int SpanAttributes = 9;
    public const int SpanDroppedAttributesCount = 10;
    public const int SpanEvents = 11;
    public const int SpanDroppedEventsCount = 12;
    public const int SpanLinks = 13;
    public const int SpanDroppedLinksCount = 14;
    public const int SpanStatus = 15;
    public const int SpanFlags = 16;
    public const int EventTime = 1;
    public const int EventName = 2;
    public const int EventAttributes = 3;
    public const int EventDroppedAttributesCount = 4;
    public const int LinkTraceId = 1;
    public const int LinkSpanId = 2;
    public const int LinkTraceState = 3;
    public const int LinkAttributes = 4;
    public const int LinkFlags = 6;
    public const int StatusMessage = 2;
    public const int StatusCodeField = 3;
    public const int KeyValueKey = 1;
    public const int KeyValueValue = 2;
    public const int AnyValueString = 1;
    public const int AnyValueBool = 2;
    public const int AnyValueInt = 3;
    public const int AnyValueDouble = 4;
    public const int AnyValueArray = 5;
    public const int AnyValueKeyValueList = 6;
    public const int AnyValueBytes = 7;
    public const int ArrayValueValues = 1;
    public const int KeyValueListValues = 1;
    public const int RequestResourceSpans = 1;
}
