using Ariadne.Demo.Protos;
using Ariadne.Instrumentation.Context;
using Ariadne.Instrumentation.Data;
using Grpc.Core;
using Microsoft.Data.Sqlite;

namespace Ariadne.Demo.Shop;

internal sealed record OrderLine(string ProductId, int Quantity, long PriceCents);

internal sealed record PlaceOrder(string UserId, string SessionId, IReadOnlyList<OrderLine> Lines, string CardType, string CardNumber);

internal sealed record CartItem(string ProductId, int Quantity);

/// <summary>
/// Orders: carts and orders over HTTP in SQLite; reserves stock (gRPC), charges the card (gRPC) and publishes
/// the outcome for notifications (RabbitMQ, NATS, or an in-process channel).
/// </summary>
internal static class Orders
{
    // Shorter than a central-warehouse lookup: that is the "inventory timeout" scenario.
    private static readonly TimeSpan s_inventoryDeadline = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_paymentsDeadline = TimeSpan.FromSeconds(5);

    public static async Task RunAsync(string[] args)
    {
        var builder = ShopHost.CreateBuilder("orders", args);
        var settings = ShopSettings.From(builder.Configuration);
        builder.Services.AddGrpcClient<Protos.Inventory.InventoryClient>(o => o.Address = settings.Inventory);
        builder.Services.AddGrpcClient<Protos.Payments.PaymentsClient>(o => o.Address = settings.Payments);
        builder.Services.AddSingleton<NotificationHandler>();
        var app = ShopHost.Build(builder);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Ariadne.Demo.Orders");

        var events = await OrderEventsFactory.ConnectAsync(settings, app.Lifetime.ApplicationStopping);
        if (events is null)
        {
            var inProcess = new InProcessOrderEvents();
            var handler = app.Services.GetRequiredService<NotificationHandler>();
            _ = inProcess.ConsumeAsync(handler.HandleAsync, app.Lifetime.ApplicationStopping);
            events = inProcess;
            logger.LogWarning(
                "No message broker configured (DEMO_RABBITMQ / DEMO_NATS unset): order events use the FALLBACK, an in-process channel inside orders; " +
                "the notifications service receives nothing. Start RabbitMQ and pass its URI to see the messaging hop.");
        }

        logger.LogInformation("Order events go through {Transport}", events.Description);
        await using var eventsLifetime = events;

        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(settings.DataDirectory, "orders.db"), Pooling = true }.ToString();
        await CreateSchemaAsync(connectionString);
        app.UseErrorBurst();

        app.MapPost("/carts/{sessionId}/items", async (string sessionId, CartItem item, CancellationToken ct) =>
        {
            await using var connection = await OpenAsync(connectionString, ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO cart_items (session_id, product_id, quantity) VALUES ($session, $product, $quantity)";
            command.Parameters.AddWithValue("$session", sessionId);
            command.Parameters.AddWithValue("$product", item.ProductId);
            command.Parameters.AddWithValue("$quantity", item.Quantity);
            await command.ExecuteNonQueryTracedAsync(ct);
            return Results.Created($"/carts/{sessionId}", item);
        });

        app.MapPost("/orders", async (
            PlaceOrder order,
            Protos.Inventory.InventoryClient inventory,
            Protos.Payments.PaymentsClient payments,
            CancellationToken ct) =>
        {
            var orderId = $"ord-{Guid.NewGuid():N}"[..16];
            AriadneContext.SetOrder(orderId);
            var total = order.Lines.Sum(l => l.PriceCents * l.Quantity);
            System.Diagnostics.Activity.Current?.SetTag("order.total_cents", total);

            await using var connection = await OpenAsync(connectionString, ct);
            await ExecuteAsync(connection, "INSERT INTO orders (id, user_id, session_id, status, total_cents, created_at) VALUES ($id, $user, $session, 'pending', $total, $now)", ct,
                ("$id", orderId), ("$user", order.UserId), ("$session", order.SessionId), ("$total", total), ("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

            var reserve = new ReserveRequest { OrderId = orderId };
            reserve.Lines.AddRange(order.Lines.Select(l => new Line { ProductId = l.ProductId, Quantity = l.Quantity }));
            try
            {
                await inventory.ReserveAsync(reserve, deadline: DateTime.UtcNow + s_inventoryDeadline, cancellationToken: ct);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted or StatusCode.Unavailable)
            {
                await SetStatusAsync(connection, orderId, "failed", ct);
                logger.LogError("Order {OrderId}: inventory reservation failed ({Status})", orderId, e.StatusCode);
                return Results.Json(new { orderId, error = $"inventory: {e.Status.Detail}" }, statusCode: e.StatusCode == StatusCode.ResourceExhausted ? 409 : 504);
            }

            ChargeReply charge;
            try
            {
                charge = await payments.ChargeAsync(
                    new ChargeRequest { OrderId = orderId, AmountCents = total, Currency = "EUR", CardType = order.CardType, CardNumber = order.CardNumber },
                    deadline: DateTime.UtcNow + s_paymentsDeadline,
                    cancellationToken: ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                await SetStatusAsync(connection, orderId, "payment_declined", ct);
                await events.PublishAsync(new OrderEvent("payment_failed", orderId, order.UserId, total, e.Status.Detail), ct);
                return Results.Json(new { orderId, error = e.Status.Detail }, statusCode: StatusCodes.Status402PaymentRequired);
            }

            await SetStatusAsync(connection, orderId, "paid", ct);
            await ExecuteAsync(connection, "DELETE FROM cart_items WHERE session_id = $session", ct, ("$session", order.SessionId));
            await events.PublishAsync(new OrderEvent("placed", orderId, order.UserId, total, null), ct);
            logger.LogInformation("Order {OrderId} placed: {Total} cents, payment {PaymentId}", orderId, total, charge.PaymentId);
            return Results.Json(new { orderId, paymentId = charge.PaymentId, totalCents = total }, statusCode: StatusCodes.Status201Created);
        });

        await app.RunAsync();
    }

    private static async Task<SqliteConnection> OpenAsync(string connectionString, CancellationToken ct)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    private static Task SetStatusAsync(SqliteConnection connection, string orderId, string status, CancellationToken ct) =>
        ExecuteAsync(connection, "UPDATE orders SET status = $status WHERE id = $id", ct, ("$status", status), ("$id", orderId));

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryTracedAsync(ct);
    }

    private static async Task CreateSchemaAsync(string connectionString)
    {
        await using var connection = await OpenAsync(connectionString, CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, session_id TEXT NOT NULL,
              status TEXT NOT NULL, total_cents INTEGER NOT NULL, created_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS cart_items (session_id TEXT NOT NULL, product_id TEXT NOT NULL, quantity INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS cart_items_session ON cart_items (session_id);
            """;
        await command.ExecuteNonQueryAsync();
    }
}
