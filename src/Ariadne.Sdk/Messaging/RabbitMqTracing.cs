using System.Diagnostics;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Ariadne.Instrumentation.Messaging;

/// <summary>
/// Trace context and baggage through RabbitMQ message headers (RabbitMQ.Client 7), with producer and consumer
/// spans following the OpenTelemetry messaging conventions for RabbitMQ.
/// </summary>
public static class RabbitMqTracing
{
    private const string System = "rabbitmq";

    /// <summary>Publishes <paramref name="body"/> inside a producer span whose context travels in the headers.</summary>
    public static async ValueTask PublishTracedAsync(
        this IChannel channel,
        string exchange,
        string routingKey,
        ReadOnlyMemory<byte> body,
        BasicProperties? properties = null,
        CancellationToken cancellationToken = default)
    {
        properties ??= new BasicProperties();
        using var activity = StartPublish(properties, exchange, routingKey);
        activity?.SetTag("messaging.message.body.size", body.Length);
        try
        {
            await channel.BasicPublishAsync(exchange, routingKey, mandatory: false, properties, body, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            AriadneTelemetry.RecordError(activity, e);
            throw;
        }
    }

    /// <summary>Starts the producer span and writes its context into <paramref name="properties"/>' headers.</summary>
    public static Activity? StartPublish(IBasicProperties properties, string exchange, string routingKey)
    {
        ArgumentNullException.ThrowIfNull(properties);
        properties.Headers ??= new Dictionary<string, object?>(StringComparer.Ordinal);

        // The default exchange has an empty name; the conventions name it amq.default.
        var destination = string.IsNullOrEmpty(exchange) ? "amq.default" : exchange;
        var activity = MessagingPropagation.StartProducer(System, destination, properties.Headers, static (headers, key, value) => headers[key] = value);
        if (activity is not null)
        {
            activity.SetTag("messaging.rabbitmq.destination.routing_key", routingKey);
            if (properties.MessageId is { } id)
            {
                activity.SetTag("messaging.message.id", id);
            }
        }

        return activity;
    }

    /// <summary>
    /// Starts the consumer span for a delivery, as a child of the producer's span, and makes the message's
    /// baggage current. Dispose it when the handler is done.
    /// </summary>
    public static Activity? StartProcess(BasicDeliverEventArgs delivery, string queue)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var destination = string.IsNullOrEmpty(delivery.Exchange) ? "amq.default" : delivery.Exchange;
        var activity = MessagingPropagation.StartConsumer(System, destination, delivery.BasicProperties.Headers, GetHeader);
        if (activity is not null)
        {
            activity.SetTag("messaging.rabbitmq.destination.routing_key", delivery.RoutingKey);
            activity.SetTag("messaging.consumer.group.name", queue);
            activity.SetTag("messaging.message.body.size", delivery.Body.Length);
            activity.SetTag("messaging.rabbitmq.message.delivery_tag", (long)delivery.DeliveryTag);
            if (delivery.BasicProperties.MessageId is { } id)
            {
                activity.SetTag("messaging.message.id", id);
            }
        }

        return activity;
    }

    // Header values come back from the broker as AMQP long strings, which the client surfaces as byte[].
    private static IEnumerable<string>? GetHeader(IDictionary<string, object?>? headers, string key) =>
        headers is not null && headers.TryGetValue(key, out var value)
            ? value switch
            {
                byte[] bytes => [Encoding.UTF8.GetString(bytes)],
                ReadOnlyMemory<byte> memory => [Encoding.UTF8.GetString(memory.Span)],
                string text => [text],
                _ => null,
            }
            : null;
}
