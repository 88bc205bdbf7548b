using Ariadne.Model;

namespace Ariadne.Tests.Infrastructure;

/// <summary>Builds model spans for storage and query tests without the noise of object initialisers.</summary>
public static class TestSpans
{
    private static long s_nextTrace = 0x4bf92f3577b34da6;

    /// <summary>A fresh trace id with both halves set, so 128-bit handling is always exercised.</summary>
    public static TraceId NewTraceId() => new(0x0af7651916cd43dd, unchecked((ulong)Interlocked.Increment(ref s_nextTrace)));

    public static Resource Resource(string service, params KeyValue[] attributes) => new()
    {
        ServiceName = service,
        Attributes = [KeyValue.String("service.name", service), .. attributes],
    };

    public static long Nanos(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks * 100;

    public static Span Create(
        Resource resource,
        TraceId traceId,
        ulong spanId,
        string name,
        DateTimeOffset start,
        TimeSpan duration,
        SpanKind kind = SpanKind.Internal,
        ulong parentSpanId = 0,
        StatusCode status = StatusCode.Unset,
        string statusMessage = "",
        KeyValue[]? attributes = null,
        SpanEvent[]? events = null,
        SpanLink[]? links = null,
        InstrumentationScope? scope = null) => new()
        {
            Resource = resource,
            TraceId = traceId,
            SpanId = new SpanId(spanId),
            ParentSpanId = new SpanId(parentSpanId),
            Name = name,
            Kind = kind,
            StartTimeUnixNano = Nanos(start),
            EndTimeUnixNano = Nanos(start + duration),
            StatusCode = status,
            StatusMessage = statusMessage,
            Attributes = attributes ?? [],
            Events = events ?? [],
            Links = links ?? [],
            Scope = scope ?? InstrumentationScope.Empty,
        };
}
