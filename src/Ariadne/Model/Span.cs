namespace Ariadne.Model;

/// <summary>OTLP span kinds, same numbers as the protocol.</summary>
public enum SpanKind : byte
{
    Unspecified = 0,
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

/// <summary>OTLP status codes, same numbers as the protocol.</summary>
public enum StatusCode : byte
{
    Unset = 0,
    Ok = 1,
    Error = 2,
}

/// <summary>
/// The resource a batch of spans came from. One instance is shared by every span of an OTLP ResourceSpans,
/// so it costs one allocation per batch, not per span.
/// </summary>
public sealed class Resource
{
    public const string UnknownService = "unknown_service";

    public required string ServiceName { get; init; }

    public KeyValue[] Attributes { get; init; } = [];

    public uint DroppedAttributesCount { get; init; }
}

/// <summary>The instrumentation scope; shared by the spans of an OTLP ScopeSpans.</summary>
public sealed class InstrumentationScope
{
    public static readonly InstrumentationScope Empty = new() { Name = string.Empty };

    public required string Name { get; init; }

    public string Version { get; init; } = string.Empty;

    public KeyValue[] Attributes { get; init; } = [];
}

public readonly record struct SpanEvent(long TimeUnixNano, string Name, KeyValue[] Attributes, uint DroppedAttributesCount = 0);

public readonly record struct SpanLink(TraceId TraceId, SpanId SpanId, string TraceState, KeyValue[] Attributes, uint Flags = 0);

/// <summary>
/// A span as Ariadne keeps it: OTLP's model (every receiver maps into it), with the resource and scope shared.
/// </summary>
public sealed class Span : ITelemetryItem
{
    public TraceId TraceId { get; set; }

    public SpanId SpanId { get; set; }

    public SpanId ParentSpanId { get; set; }

    public string TraceState { get; set; } = string.Empty;

    /// <summary>W3C trace flags in the low byte, OTLP's has-is-remote bits above.</summary>
    public uint Flags { get; set; }

    public string Name { get; set; } = string.Empty;

    public SpanKind Kind { get; set; }

    public long StartTimeUnixNano { get; set; }

    public long EndTimeUnixNano { get; set; }

    public KeyValue[] Attributes { get; set; } = [];

    public uint DroppedAttributesCount { get; set; }

    public SpanEvent[] Events { get; set; } = [];

    public uint DroppedEventsCount { get; set; }

    public SpanLink[] Links { get; set; } = [];

    public uint DroppedLinksCount { get; set; }

    public StatusCode StatusCode { get; set; }

    public string StatusMessage { get; set; } = string.Empty;

    public required Resource Resource { get; set; }

    public InstrumentationScope Scope { get; set; } = InstrumentationScope.Empty;

    public string ServiceName => Resource.ServiceName;

    public long DurationNanos => EndTimeUnixNano - StartTimeUnixNano;

    public bool IsRoot => ParentSpanId.IsEmpty;

    public bool IsError => StatusCode == StatusCode.Error;

    public bool TryGetAttribute(string key, out AnyValue value)
    {
        foreach (var kv in Attributes)
        {
            if (string.Equals(kv.Key, key, StringComparison.Ordinal))
            {
                value = kv.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}
