using Ariadne.Model;
using Ariadne.Pipeline;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// Where the log records of an export request go, whichever the format: into the batch when their ids are empty or
/// of the right lengths, else rejected one by one (OTLP partial success); their resource and scope are given once
/// known.
/// </summary>
internal readonly struct OtlpLogRecords(LogBatch batch) : IOtlpSignal
{
    public int Count => batch.Records.Count;

    public void AssignResource(int firstItem, Resource resource) => OtlpDecoding.AssignResource(batch.Records, firstItem, resource);

    public void AssignScope(int firstItem, InstrumentationScope scope) => OtlpDecoding.AssignScope(batch.Records, firstItem, scope);

    public void Add(scoped in OtlpLogRecordFields record)
    {
        if (OtlpLogDecoding.ValidateIds(record.TraceId.Length, record.SpanId.Length) is { } invalidId)
        {
            record.Discard();
            batch.Reject(invalidId);
            return;
        }

        batch.Records.Add(record.ToLogRecord());
    }
}

/// <summary>
/// A log record as the protobuf or the JSON decoder reads it, before <see cref="OtlpLogRecords.Add"/> checks it and
/// makes it a <see cref="LogRecord"/>: its fields, the ids as read (of any length), and where its attributes begin on
/// the scratch stack.
/// </summary>
internal ref struct OtlpLogRecordFields
{
    public long Time;
    public long ObservedTime;
    public int SeverityNumber;
    public string SeverityText = string.Empty;
    public AnyValue Body;
    public uint DroppedAttributes;
    public uint Flags;
    public ReadOnlySpan<byte> TraceId;
    public ReadOnlySpan<byte> SpanId;
    public string EventName = string.Empty;

    private readonly ScratchStack<KeyValue> _keyValues;
    private readonly int _attributeStart;

    public OtlpLogRecordFields(DecoderScratch scratch)
    {
        _keyValues = scratch.KeyValues;
        _attributeStart = _keyValues.Count;
    }

    /// <summary>Drops the attributes of a record that is rejected.</summary>
    public readonly void Discard() => _keyValues.Truncate(_attributeStart);

    public readonly LogRecord ToLogRecord() => new()
    {
        TimeUnixNano = Time,
        ObservedTimeUnixNano = ObservedTime,
        SeverityNumber = SeverityNumber,
        SeverityText = SeverityText,
        Body = Body,
        Attributes = _keyValues.Pop(_attributeStart),
        DroppedAttributesCount = DroppedAttributes,
        Flags = Flags,
        TraceId = TraceId.IsEmpty ? default : Model.TraceId.FromBytes(TraceId),
        SpanId = SpanId.IsEmpty ? default : Model.SpanId.FromBytes(SpanId),
        EventName = EventName,
        Resource = OtlpDecoding.PendingResource,
    };
}
