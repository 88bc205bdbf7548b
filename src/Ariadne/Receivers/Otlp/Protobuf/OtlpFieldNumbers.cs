namespace Ariadne.Receivers.Otlp.Protobuf;

// Field numbers of the OTLP messages Ariadne decodes, from open-telemetry/opentelemetry-proto (one class per
// message family, as OTel .NET's ProtobufOtlp*FieldNumberConstants). Wire types are checked with the field number:
// a field that arrives with another wire type is unknown and skipped, as the generated parsers do.

/// <summary>opentelemetry/proto/common/v1/common.proto and resource/v1/resource.proto.</summary>
internal static class OtlpCommonFieldNumbers
{
    public const int AnyValue_StringValue = 1;
    public const int AnyValue_BoolValue = 2;
    public const int AnyValue_IntValue = 3;
    public const int AnyValue_DoubleValue = 4;
    public const int AnyValue_ArrayValue = 5;
    public const int AnyValue_KvlistValue = 6;
    public const int AnyValue_BytesValue = 7;

    public const int ArrayValue_Values = 1;

    public const int KeyValueList_Values = 1;

    public const int KeyValue_Key = 1;
    public const int KeyValue_Value = 2;

    public const int InstrumentationScope_Name = 1;
    public const int InstrumentationScope_Version = 2;
    public const int InstrumentationScope_Attributes = 3;
    public const int InstrumentationScope_DroppedAttributesCount = 4;

    public const int Resource_Attributes = 1;
    public const int Resource_DroppedAttributesCount = 2;
    public const int Resource_EntityRefs = 3;

    // EntityRef: schema_url = 1, type = 2, id_keys = 3, description_keys = 4, all strings.
}

/// <summary>
/// The envelope of an export request, numbered alike by every signal's protos (trace, logs and metrics/v1 and their
/// collector services): Export*ServiceRequest { repeated Resource* resource_* = 1 }, then two levels laid out the same
/// way, Resource{Spans,Logs,Metrics} { Resource resource = 1; repeated Scope* scope_* = 2; string schema_url = 3 }
/// and Scope{Spans,Logs,Metrics} { InstrumentationScope scope = 1; repeated spans, log_records or metrics = 2;
/// string schema_url = 3 }.
/// </summary>
internal static class OtlpEnvelopeFieldNumbers
{
    public const int ExportRequest_ResourceLevel = 1;

    // Of the resource level and the scope level alike.
    public const int Level_Context = 1;
    public const int Level_Contents = 2;
    public const int Level_SchemaUrl = 3;
}

/// <summary>opentelemetry/proto/trace/v1/trace.proto and collector/trace/v1/trace_service.proto.</summary>
internal static class OtlpTraceFieldNumbers
{
    public const int ExportTraceServiceResponse_PartialSuccess = 1;
    public const int ExportTracePartialSuccess_RejectedSpans = 1;
    public const int ExportTracePartialSuccess_ErrorMessage = 2;

    public const int Span_TraceId = 1;
    public const int Span_SpanId = 2;
    public const int Span_TraceState = 3;
    public const int Span_ParentSpanId = 4;
    public const int Span_Name = 5;
    public const int Span_Kind = 6;
    public const int Span_StartTimeUnixNano = 7;
    public const int Span_EndTimeUnixNano = 8;
    public const int Span_Attributes = 9;
    public const int Span_DroppedAttributesCount = 10;
    public const int Span_Events = 11;
    public const int Span_DroppedEventsCount = 12;
    public const int Span_Links = 13;
    public const int Span_DroppedLinksCount = 14;
    public const int Span_Status = 15;
    public const int Span_Flags = 16;

    public const int Event_TimeUnixNano = 1;
    public const int Event_Name = 2;
    public const int Event_Attributes = 3;
    public const int Event_DroppedAttributesCount = 4;

    public const int Link_TraceId = 1;
    public const int Link_SpanId = 2;
    public const int Link_TraceState = 3;
    public const int Link_Attributes = 4;
    public const int Link_DroppedAttributesCount = 5;
    public const int Link_Flags = 6;

    public const int Status_Message = 2;
    public const int Status_Code = 3;
}

/// <summary>
/// The path to the items of the signal Ariadne accepts without storing (metrics/v1 and its collector service), used
/// to count what is ignored. The export response shares the trace response's shape. Logs: Logs/OtlpLogFieldNumbers.
/// </summary>
internal static class OtlpIgnoredSignalFieldNumbers
{
    public const int ExportMetricsServiceRequest_ResourceMetrics = 1;
    public const int ResourceMetrics_ScopeMetrics = 2;
    public const int ScopeMetrics_Metrics = 2;
}

/// <summary>
/// google/rpc/status.proto, the body of OTLP/HTTP error responses and gRPC's grpc-status-details-bin, with the one
/// detail Ariadne sends: google/rpc/error_details.proto RetryInfo in a google/protobuf/any.proto Any.
/// </summary>
internal static class GoogleRpcStatusFieldNumbers
{
    public const string RetryInfoTypeUrl = "type.googleapis.com/google.rpc.RetryInfo";

    public const int Status_Code = 1;
    public const int Status_Message = 2;
    public const int Status_Details = 3;
    public const int Any_TypeUrl = 1;
    public const int Any_Value = 2;
    public const int RetryInfo_RetryDelay = 1;
    public const int Duration_Seconds = 1;
}
