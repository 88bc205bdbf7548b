using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Ariadne.Instrumentation.Messaging;
using NATS.Client.Core;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Ariadne.Demo.Shop;

internal sealed record OrderEvent(string Type, string OrderId, string UserId, long TotalCents, string? Reason);

/// <summary>How order events reach notifications: RabbitMQ, NATS, or (no broker configured) an in-process channel.</summary>
internal interface IOrderEvents : IAsyncDisposable
{
    string Description { get; }

    ValueTask PublishAsync(OrderEvent orderEvent, CancellationToken cancellationToken);

    /// <summary>Delivers every event to <paramref name="handle"/> until cancelled, each inside a consumer span.</summary>
    Task ConsumeAsync(Func<OrderEvent, CancellationToken, Task> handle, CancellationToken cancellationToken);
}

internal static class OrderEventsFactory
{
    public const string Exchange = "shop.orders";
    public const string Queue = "notifications";
    public const string NatsSubject = "shop.orders";

    public static async Task<IOrderEvents?> ConnectAsync(ShopSettings settings, CancellationToken cancellationToken)
    {
        if (settings.RabbitMq is not null)
        {
            return await RabbitMqOrderEvents.ConnectAsync(settings.RabbitMq, cancellationToken);
        }

        if (settings.Nats is not null)
        {
            var nats = new NatsConnection(new NatsOpts { Url = settings.Nats, Name = "ariadne-demo" });
            await nats.ConnectAsync();
            return new NatsOrderEvents(nats);
        }

        return null;
    }
}

internal sealed class RabbitMqOrderEvents : IOrderEvents
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private RabbitMqOrderEvents(IConnection connection, IChannel channel, string uri)
    {
        _connection = connection;
        _channel = channel;
        Description = $"RabbitMQ {new Uri(uri).GetLeftPart(UriPartial.Authority).Replace(new Uri(uri).UserInfo + "@", string.Empty, StringComparison.Ordinal)} (exchange {OrderEventsFactory.Exchange}, queue {OrderEventsFactory.Queue})";
    }

    public string Description { get; }

    public static async Task<RabbitMqOrderEvents> ConnectAsync(string uri, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(uri), ClientProvidedName = "ariadne-demo" };
        var connection = await factory.CreateConnectionAsync(cancellationToken);
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(OrderEventsFactory.Exchange, ExchangeType.Topic, durable: true, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(OrderEventsFactory.Queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(OrderEventsFactory.Queue, OrderEventsFactory.Exchange, "order.*", cancellationToken: cancellationToken);
        return new RabbitMqOrderEvents(connection, channel, uri);
    }

    public async ValueTask PublishAsync(OrderEvent orderEvent, CancellationToken cancellationToken)
    {
        var properties = new BasicProperties { MessageId = Guid.NewGuid().ToString("N"), ContentType = "application/json", Persistent = true };
        await _channel.PublishTracedAsync(OrderEventsFactory.Exchange, $"order.{orderEvent.Type}", JsonSerializer.SerializeToUtf8Bytes(orderEvent), properties, cancellationToken);
    }

    public async Task ConsumeAsync(Func<OrderEvent, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        await _channel.BasicQosAsync(0, 16, global: false, cancellationToken);
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            using (var activity = RabbitMqTracing.StartProcess(delivery, OrderEventsFactory.Queue))
            {
                var orderEvent = JsonSerializer.Deserialize<OrderEvent>(delivery.Body.Span)!;
                await handle(orderEvent, cancellationToken);
            }

            await _channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
        };
        await _channel.BasicConsumeAsync(OrderEventsFactory.Queue, autoAck: false, consumer, cancellationToken);
        await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        await _connection.CloseAsync();
        _channel.Dispose();
        _connection.Dispose();
    }
}

internal sealed class NatsOrderEvents(NatsConnection connection) : IOrderEvents
{
    public string Description => $"NATS {connection.Opts.Url} (subject {OrderEventsFactory.NatsSubject}.*, queue group {OrderEventsFactory.Queue})";

    public ValueTask PublishAsync(OrderEvent orderEvent, CancellationToken cancellationToken) =>
        connection.PublishTracedAsync($"{OrderEventsFactory.NatsSubject}.{orderEvent.Type}", JsonSerializer.SerializeToUtf8Bytes(orderEvent), cancellationToken: cancellationToken);

    public async Task ConsumeAsync(Func<OrderEvent, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in connection.SubscribeAsync<byte[]>($"{OrderEventsFactory.NatsSubject}.*", queueGroup: OrderEventsFactory.Queue, cancellationToken: cancellationToken))
            {
                using var activity = NatsTracing.StartProcess(message, OrderEventsFactory.Queue);
                await handle(JsonSerializer.Deserialize<OrderEvent>(message.Data)!, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    public ValueTask DisposeAsync() => connection.DisposeAsync();
}

/// <summary>
/// The fallback when no broker is configured: the orders process hands events to its own notification handler
/// through a channel, with the same header propagation a broker would carry.
/// </summary>
internal sealed class InProcessOrderEvents : IOrderEvents
{
    private const string System = "in-process";

    private readonly Channel<(Dictionary<string, string> Headers, byte[] Body)> _channel =
        Channel.CreateBounded<(Dictionary<string, string>, byte[])>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest });

    public string Description => "in-process channel inside the orders service (no RabbitMQ or NATS configured)";

    public ValueTask PublishAsync(OrderEvent orderEvent, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        using var activity = MessageTracing.StartPublish(System, OrderEventsFactory.Exchange, headers);
        return _channel.Writer.WriteAsync((headers, JsonSerializer.SerializeToUtf8Bytes(orderEvent)), cancellationToken);
    }

    public async Task ConsumeAsync(Func<OrderEvent, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var (headers, body) in _channel.Reader.ReadAllAsync(cancellationToken))
            {
                using var activity = MessageTracing.StartProcess(System, OrderEventsFactory.Exchange, headers);
                await handle(JsonSerializer.Deserialize<OrderEvent>(body)!, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    public ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>What notifications does with an order event: render and "send" the e-mail.</summary>
internal sealed class NotificationHandler(ILogger<NotificationHandler> logger)
{
    public async Task HandleAsync(OrderEvent orderEvent, CancellationToken cancellationToken)
    {
        using var render = ShopHost.Source.StartActivity("render email template");
        render?.SetTag("notification.template", orderEvent.Type);
        await Task.Delay(Random.Shared.Next(2, 8), cancellationToken);
        render?.Dispose();

        using var send = ShopHost.Source.StartActivity("smtp send", System.Diagnostics.ActivityKind.Client);
        send?.SetTag("peer.service", "smtp");
        await Task.Delay(Random.Shared.Next(10, 40), cancellationToken);
        logger.LogInformation("Sent {Type} e-mail for order {OrderId} to user {UserId}", orderEvent.Type, orderEvent.OrderId, orderEvent.UserId);
    }
}
