using Ariadne.Model;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// Where a signal's decoded items go (spans, log records), as the envelope walk of an export request sees it, in
/// either format: the items of a Resource{Spans,Logs} and of a Scope{Spans,Logs} share one resource and one scope,
/// given to them once the level is fully read. Implemented by a struct per signal, so the walk, generic over it,
/// calls these directly.
/// </summary>
internal interface IOtlpSignal
{
    /// <summary>How many items the batch holds so far; those decoded after a level began are its items.</summary>
    int Count { get; }

    void AssignResource(int firstItem, Resource resource);

    void AssignScope(int firstItem, InstrumentationScope scope);
}
