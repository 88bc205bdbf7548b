using Ariadne.Model;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// One level of an export request's envelope being read, in either format: a Resource{Spans,Logs} or a
/// Scope{Spans,Logs}. It collects the level's context (the resource or the scope) and remembers where its items
/// begin; at its end those items get the context, one instance they share (on the wire it may follow them).
/// </summary>
internal struct OtlpEnvelopeLevel(int firstItem)
{
    // Name and Version are a scope's, DroppedAttributes a resource's.
    public string Name = string.Empty;
    public string Version = string.Empty;
    public KeyValue[] Attributes = [];
    public uint DroppedAttributes;

    public readonly void End<TSignal>(TSignal signal, bool scope)
        where TSignal : struct, IOtlpSignal
    {
        if (signal.Count == firstItem)
        {
            return;
        }

        if (scope)
        {
            signal.AssignScope(firstItem, OtlpDecoding.CreateScope(Name, Version, Attributes));
        }
        else
        {
            signal.AssignResource(firstItem, OtlpDecoding.CreateResource(Attributes, DroppedAttributes));
        }
    }
}
