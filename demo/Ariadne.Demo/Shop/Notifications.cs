namespace Ariadne.Demo.Shop;

/// <summary>Notifications: consumes order events from RabbitMQ (or NATS) and sends e-mails.</summary>
internal static class Notifications
{
    public static async Task RunAsync(string[] args)
    {
        var builder = ShopHost.CreateBuilder("notifications", args);
        builder.Services.AddSingleton<NotificationHandler>();
        var app = ShopHost.Build(builder);
        var settings = app.Services.GetRequiredService<ShopSettings>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Ariadne.Demo.Notifications");
        var events = await OrderEventsFactory.ConnectAsync(settings, app.Lifetime.ApplicationStopping);
        if (events is null)
        {
            logger.LogWarning("No message broker configured (DEMO_RABBITMQ / DEMO_NATS unset): notifications idles; orders handles its events in-process (FALLBACK).");
            await app.RunAsync();
            return;
        }

        await using (events)
        {
            var handler = app.Services.GetRequiredService<NotificationHandler>();
            await app.StartAsync();
            logger.LogInformation("Consuming order events from {Transport}", events.Description);
            await events.ConsumeAsync(handler.HandleAsync, app.Lifetime.ApplicationStopping);
            await app.WaitForShutdownAsync();
        }
    }
}
