namespace Ariadne.Receivers.Otlp.Protobuf;

/// <summary>
/// opentelemetry/proto/logs/v1/logs.proto and collector/logs/v1/logs_service.proto (field 4 of LogRecord is
/// reserved). The envelope around the records is numbered as for spans (<c>OtlpEnvelopeFieldNumbers</c>), and the
/// export response has the trace response's shape: partial_success = 1 { rejected_log_records = 1, error_message = 2 }.
/// </summary>
internal static class OtlpLogFieldNumbers
{
    public const int LogRecord_TimeUnixNano = 1;
    public const int LogRecord_SeverityNumber = 2;
    public const int LogRecord_SeverityText = 3;
    public const int LogRecord_Body = 5;
    public const int LogRecord_Attributes = 6;
    public const int LogRecord_DroppedAttributesCount = 7;
    public const int LogRecord_Flags = 8;
    public const int LogRecord_TraceId = 9;
    public const int LogRecord_SpanId = 10;
    public const int LogRecord_ObservedTimeUnixNano = 11;
    public const int LogRecord_EventName = 12;
}
