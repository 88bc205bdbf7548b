using System.Diagnostics;
using NATS.Client.Core;

namespace Ariadne.Instrumentation.Messaging;

/// <summary>
/// Trace context and baggage through NATS message headers (NATS.Net 2+), with producer and consumer spans
/// following the OpenTelemetry messaging conventions.
/// </summary>
public static class NatsTracing
{
    private const string System = "nats";

    /// <summary>Publishes <paramref name="data"/> inside a producer span whose context travels in the headers.</summary>
    public static async ValueTask PublishTracedAsync<T>(
        this INatsConnection connection,
        string subject,
        T data,
        NatsHeaders? headers = null,
        INatsSerialize<T>? serializer = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        headers ??= [];
        using var activity = StartPublish(headers, subject);
        try
        {
            await connection.PublishAsync(subject, data, headers, serializer: serializer, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            AriadneTelemetry.RecordError(activity, e);
            throw;
        }
    }

    /// <summary>Starts the producer span and writes its context into <paramref name="headers"/>.</summary>
    public static Activity? StartPublish(NatsHeaders headers, string subject)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return MessagingPropagation.StartProducer(System, subject, headers, static (h, key, value) => h[key] = value);
    }

    /// <summary>
    /// Starts the consumer span for a received message, as a child of the producer's span, and makes the
    /// message's baggage current. Dispose it when the handler is done.
    /// </summary>
    public static Activity? StartProcess<T>(in NatsMsg<T> message, string? queueGroup = null)
    {
        var activity = MessagingPropagation.StartConsumer(System, message.Subject, message.Headers, GetHeader);
        if (activity is not null)
        {
            activity.SetTag("messaging.message.body.size", message.Size);
            if (queueGroup is not null)
            {
                activity.SetTag("messaging.consumer.group.name", queueGroup);
            }
        }

        return activity;
    }

    private static IEnumerable<string>? GetHeader(NatsHeaders? headers, string key) =>
        headers is not null && headers.TryGetValue(key, out var values) ? values.Where(v => v is not null).Select(v => v!) : null;
}
