using OpenTelemetry.Context.Propagation;

namespace Ariadne.Instrumentation.Context;

/// <summary>
/// W3C baggage that only ever carries allowlisted keys with length-limited values, in both directions: what a
/// client sent us that is not on the list is dropped on extract, and nothing else set in-process is injected.
/// </summary>
internal sealed class AllowlistBaggagePropagator : TextMapPropagator
{
    private readonly BaggagePropagator _inner = new();

    public override ISet<string> Fields => _inner.Fields;

    public override PropagationContext Extract<T>(PropagationContext context, T carrier, Func<T, string, IEnumerable<string>?> getter)
    {
        var extracted = _inner.Extract(context, carrier, getter);
        return new PropagationContext(extracted.ActivityContext, AriadneContext.Policy.Filter(extracted.Baggage));
    }

    public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
    {
        var filtered = AriadneContext.Policy.Filter(context.Baggage);
        if (filtered.Count > 0)
        {
            _inner.Inject(new PropagationContext(context.ActivityContext, filtered), carrier, setter);
        }
    }
}
