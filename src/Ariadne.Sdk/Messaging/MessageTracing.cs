using System.Diagnostics;

namespace Ariadne.Instrumentation.Messaging;

/// <summary>
/// Producer and consumer spans with context in a plain string header map, for transports without a dedicated
/// helper (an in-process queue, a custom broker client).
/// </summary>
public static class MessageTracing
{
    public static Activity? StartPublish(string system, string destination, IDictionary<string, string> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return MessagingPropagation.StartProducer(system, destination, headers, static (h, key, value) => h[key] = value);
    }

    public static Activity? StartProcess(string system, string destination, IReadOnlyDictionary<string, string> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return MessagingPropagation.StartConsumer(system, destination, headers, static (h, key) => h.TryGetValue(key, out var value) ? [value] : null);
    }
}
