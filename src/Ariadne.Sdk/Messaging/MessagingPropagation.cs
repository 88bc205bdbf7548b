using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Ariadne.Instrumentation.Messaging;

/// <summary>
/// The shared half of the RabbitMQ and NATS helpers: producer and consumer spans named and tagged by the OTel
/// messaging conventions, and trace context plus baggage carried in the message headers.
/// </summary>
internal static class MessagingPropagation
{
    public static Activity? StartProducer<T>(string system, string destination, T carrier, Action<T, string, string> setter)
    {
        var activity = AriadneTelemetry.Source.StartActivity($"publish {destination}", ActivityKind.Producer);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", system);
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.operation.name", "publish");
            activity.SetTag("messaging.destination.name", destination);
        }

        // Inject even when this span is not recorded: the consumer still joins the caller's trace and baggage.
        var context = activity?.Context ?? Activity.Current?.Context ?? default;
        if (context != default)
        {
            Propagators.DefaultTextMapPropagator.Inject(new PropagationContext(context, Baggage.Current), carrier, setter);
        }

        return activity;
    }

    /// <summary>
    /// A consumer "process" span that is a child of the producer's span: one message, one delivery, so the
    /// conventions allow parenting, which keeps the whole checkout in one trace. The message's baggage becomes the
    /// current baggage for the handler.
    /// </summary>
    public static Activity? StartConsumer<T>(string system, string destination, T carrier, Func<T, string, IEnumerable<string>?> getter)
    {
        var parent = Propagators.DefaultTextMapPropagator.Extract(default, carrier, getter);
        Baggage.Current = parent.Baggage;
        var activity = AriadneTelemetry.Source.StartActivity($"process {destination}", ActivityKind.Consumer, parent.ActivityContext);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", system);
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", destination);
        }

        return activity;
    }
}
