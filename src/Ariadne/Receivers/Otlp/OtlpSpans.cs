using Ariadne.Model;
using Ariadne.Pipeline;
using Span = Ariadne.Model.Span;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// Where the spans of an export request go, whichever the format: into the batch when their ids have the right
/// lengths, else rejected one by one (OTLP partial success); their resource and scope are given once known.
/// </summary>
internal readonly struct OtlpSpans(SpanBatch batch) : IOtlpSignal
{
    public int Count => batch.Spans.Count;

    public void AssignResource(int firstItem, Resource resource) => OtlpDecoding.AssignResource(batch.Spans, firstItem, resource);

    public void AssignScope(int firstItem, InstrumentationScope scope) => OtlpDecoding.AssignScope(batch.Spans, firstItem, scope);

    public void Add(scoped in OtlpSpanFields span)
    {
        if (OtlpDecoding.ValidateIds(span.TraceId.Length, span.SpanId.Length, span.ParentSpanId.Length) is { } invalidId)
        {
            span.Discard();
            batch.Reject(invalidId);
            return;
        }

        batch.Spans.Add(span.ToSpan());
    }
}

/// <summary>
/// A span as the protobuf or the JSON decoder reads it, before <see cref="OtlpSpans.Add"/> checks it and makes it a
/// <see cref="Span"/>: the ids as read (of any length), the other fields, and where the span's attributes, events and
/// links begin on the scratch stacks.
/// </summary>
internal ref struct OtlpSpanFields
{
    public ReadOnlySpan<byte> TraceId;
    public ReadOnlySpan<byte> SpanId;
    public ReadOnlySpan<byte> ParentSpanId;
    public string TraceState = string.Empty;
    public string Name = string.Empty;
    public string StatusMessage = string.Empty;
    public StatusCode StatusCode;
    public SpanKind Kind;
    public uint Flags;
    public long StartTime;
    public long EndTime;
    public uint DroppedAttributes;
    public uint DroppedEvents;
    public uint DroppedLinks;

    /// <summary>Links dropped because their ids have the wrong length: the model cannot hold them.</summary>
    public uint InvalidLinks;

    private readonly DecoderScratch _scratch;
    private readonly int _attributeStart;
    private readonly int _eventStart;
    private readonly int _linkStart;

    public OtlpSpanFields(DecoderScratch scratch)
    {
        _scratch = scratch;
        _attributeStart = scratch.KeyValues.Count;
        _eventStart = scratch.Events.Count;
        _linkStart = scratch.Links.Count;
    }

    /// <summary>Drops the attributes, events and links of a span that is rejected.</summary>
    public readonly void Discard()
    {
        _scratch.KeyValues.Truncate(_attributeStart);
        _scratch.Events.Truncate(_eventStart);
        _scratch.Links.Truncate(_linkStart);
    }

    public readonly Span ToSpan() => new()
    {
        TraceId = Model.TraceId.FromBytes(TraceId),
        SpanId = Model.SpanId.FromBytes(SpanId),
        ParentSpanId = ParentSpanId.IsEmpty ? default : Model.SpanId.FromBytes(ParentSpanId),
        TraceState = TraceState,
        Flags = Flags,
        Name = Name,
        Kind = Kind,
        StartTimeUnixNano = StartTime,
        EndTimeUnixNano = EndTime,
        Attributes = _scratch.KeyValues.Pop(_attributeStart),
        DroppedAttributesCount = DroppedAttributes,
        Events = _scratch.Events.Pop(_eventStart),
        DroppedEventsCount = DroppedEvents,
        Links = _scratch.Links.Pop(_linkStart),
        // Links dropped for invalid ids add to what the sender reports.
        DroppedLinksCount = DroppedLinks + InvalidLinks,
        StatusCode = StatusCode,
        StatusMessage = StatusMessage,
        Resource = OtlpDecoding.PendingResource,
    };
}
