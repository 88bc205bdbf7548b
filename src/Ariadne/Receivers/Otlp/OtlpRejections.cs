namespace Ariadne.Receivers.Otlp;

/// <summary>Why a span was rejected on its own (OTLP partial success); the same words for protobuf and JSON.</summary>
internal static class OtlpRejections
{
    public const string TraceIdLength = "A span's trace_id is not 16 bytes (32 hex digits in OTLP/JSON); such spans are dropped, the others were stored.";
    public const string SpanIdLength = "A span's span_id is not 8 bytes (16 hex digits in OTLP/JSON); such spans are dropped, the others were stored.";
    public const string ParentSpanIdLength = "A span's parent_span_id is neither empty nor 8 bytes; such spans are dropped, the others were stored.";
}
