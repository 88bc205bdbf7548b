using Ariadne.Model;

namespace Ariadne.Receivers.Jaeger;

/// <summary>
/// One Jaeger span as the Thrift and protobuf decoders read it, before <see cref="JaegerSpanMapper"/> maps it. Tags are
/// already typed key/values; log fields of every log sit in one list, each log naming its slice. One instance is
/// reused for every span of a payload.
/// </summary>
internal sealed class JaegerSpan
{
    public TraceId TraceId { get; set; }

    public SpanId SpanId { get; set; }

    /// <summary>Thrift's explicit parentSpanId; the protobuf model has only references.</summary>
    public SpanId ParentSpanId { get; set; }

    public string OperationName { get; set; } = string.Empty;

    public int Flags { get; set; }

    public long StartTimeUnixNano { get; set; }

    public long DurationNanos { get; set; }

    public List<KeyValue> Tags { get; } = [];

    public List<JaegerLog> Logs { get; } = [];

    public List<KeyValue> LogFields { get; } = [];

    public List<JaegerReference> References { get; } = [];

    /// <summary>The span's own process (protobuf only), which wins over its batch's.</summary>
    public Resource? Process { get; set; }

    public void Reset()
    {
        TraceId = default;
        SpanId = default;
        ParentSpanId = default;
        OperationName = string.Empty;
        Flags = 0;
        StartTimeUnixNano = 0;
        DurationNanos = 0;
        Tags.Clear();
        Logs.Clear();
        LogFields.Clear();
        References.Clear();
        Process = null;
    }
}

/// <summary>A log: its time and its fields, <see cref="FieldCount"/> entries of <see cref="JaegerSpan.LogFields"/> from <see cref="FirstField"/>.</summary>
internal readonly record struct JaegerLog(long TimeUnixNano, int FirstField, int FieldCount);

internal readonly record struct JaegerReference(bool FollowsFrom, TraceId TraceId, SpanId SpanId);
