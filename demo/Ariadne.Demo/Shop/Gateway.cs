using System.Diagnostics;
using System.Net;
using Ariadne.Instrumentation.Context;

namespace Ariadne.Demo.Shop;

internal sealed record CheckoutItem(string ProductId, int Quantity);

internal sealed record Checkout(string UserId, string SessionId, string CardType, string CardNumber, IReadOnlyList<CheckoutItem> Items, string? CustomerTier = null);

/// <summary>The fault switches as the admin endpoint takes them (a duration rather than an end time).</summary>
internal sealed record FaultRequest(int SlowInventoryMs = 0, string? FailingCardType = null, int ErrorBurstSeconds = 0, bool SlowSql = false);

/// <summary>Gateway: the shop's public HTTP API, which the traffic generator (and you, with curl) calls.</summary>
internal static class Gateway
{
    public static async Task RunAsync(string[] args)
    {
        var builder = ShopHost.CreateBuilder("gateway", args);
        var settings = ShopSettings.From(builder.Configuration);
        builder.Services.AddHttpClient("catalog", c => c.BaseAddress = settings.Catalog);
        builder.Services.AddHttpClient("orders", c => c.BaseAddress = settings.Orders);
        var app = ShopHost.Build(builder);
        var faults = app.Services.GetRequiredService<FaultSwitchboard>();

        // Every answer names its trace, so a caller can open it in Ariadne straight away.
        app.Use(async (context, next) =>
        {
            if (Activity.Current is { } activity)
            {
                context.Response.Headers["x-trace-id"] = activity.TraceId.ToHexString();
            }

            await next();
        });

        app.MapGet("/api/products", (string? q, IHttpClientFactory clients, CancellationToken ct) =>
            ForwardAsync(clients.CreateClient("catalog").GetAsync($"/products?q={Uri.EscapeDataString(q ?? string.Empty)}", ct), ct));

        app.MapGet("/api/products/{id}", (string id, IHttpClientFactory clients, CancellationToken ct) =>
            ForwardAsync(clients.CreateClient("catalog").GetAsync($"/products/{Uri.EscapeDataString(id)}", ct), ct));

        app.MapPost("/api/cart/{sessionId}/items", (string sessionId, CartItem item, IHttpClientFactory clients, CancellationToken ct) =>
        {
            AriadneContext.SetSession(sessionId);
            return ForwardAsync(clients.CreateClient("orders").PostAsJsonAsync($"/carts/{Uri.EscapeDataString(sessionId)}/items", item, ct), ct);
        });

        app.MapPost("/api/checkout", async (Checkout checkout, IHttpClientFactory clients, CancellationToken ct) =>
        {
            AriadneContext.Set([
                new(AriadneContext.UserIdKey, checkout.UserId),
                new(AriadneContext.SessionIdKey, checkout.SessionId),
                new(AriadneContext.CustomerTierKey, checkout.CustomerTier ?? "standard"),
            ]);

            var catalog = clients.CreateClient("catalog");
            var lines = new List<OrderLine>();
            foreach (var item in checkout.Items)
            {
                using var response = await catalog.GetAsync($"/products/{Uri.EscapeDataString(item.ProductId)}", ct);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return Results.BadRequest(new { error = $"unknown product {item.ProductId}" });
                }

                if (!response.IsSuccessStatusCode)
                {
                    // The catalog's answer (an injected error burst, say) goes back as it came, without an exception
                    // and its stack trace in the log.
                    return Results.Content(await response.Content.ReadAsStringAsync(ct), "application/json", statusCode: (int)response.StatusCode);
                }

                var product = await response.Content.ReadFromJsonAsync<Product>(ct);
                lines.Add(new OrderLine(item.ProductId, item.Quantity, product!.PriceCents));
            }

            return await ForwardAsync(
                clients.CreateClient("orders").PostAsJsonAsync("/orders", new PlaceOrder(checkout.UserId, checkout.SessionId, lines, checkout.CardType, checkout.CardNumber), ct),
                ct);
        });

        app.MapPost("/admin/faults", (FaultRequest request) =>
        {
            var applied = new Faults
            {
                SlowInventoryMs = Math.Max(0, request.SlowInventoryMs),
                FailingCardType = string.IsNullOrWhiteSpace(request.FailingCardType) ? null : request.FailingCardType,
                ErrorBurstUntilUnixMs = request.ErrorBurstSeconds > 0 ? DateTimeOffset.UtcNow.AddSeconds(request.ErrorBurstSeconds).ToUnixTimeMilliseconds() : 0,
                SlowSql = request.SlowSql,
            };
            faults.Write(applied);
            return applied;
        });

        await app.RunAsync();
    }

    private static async Task<IResult> ForwardAsync(Task<HttpResponseMessage> call, CancellationToken ct)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync(ct);
        return Results.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/json", statusCode: (int)response.StatusCode);
    }
}
