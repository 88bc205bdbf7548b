using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Ariadne.Demo;
using Ariadne.Hosting;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Instrumentation;

namespace Ariadne.Tests.Demo;

/// <summary>The demo shop with NATS instead of RabbitMQ carrying order events, against a real nats-server.</summary>
[Collection(SdkCollection.Name)]
public sealed class DemoShopNatsEndToEndTests(ServerFixture ariadne, NatsServerFixture nats) : IClassFixture<ServerFixture>, IClassFixture<NatsServerFixture>
{
    [Fact]
    public async Task Order_event_through_NATS_joins_the_checkout_trace_with_business_context()
    {
        var output = new ConcurrentQueue<string>();
        await using var shop = await DemoShop.StartAsync(
            new DemoShopOptions
            {
                OtlpEndpoint = ariadne.Server.GetUri(Listener.OtlpGrpc),
                Nats = nats.Url,
                DemoDirectory = Path.Combine(AppContext.BaseDirectory, "demo"),
                Output = (service, line) => output.Enqueue($"{service}| {line}"),
            },
            CancellationToken.None);
        using var gateway = new HttpClient { BaseAddress = shop.Gateway };

        string? traceId = null;
        for (var attempt = 0; attempt < 5 && traceId is null; attempt++)
        {
            // A cold shop can miss the 1 s inventory deadline on its first checkout (504): ask again.
            using var response = await gateway.PostAsJsonAsync("/api/checkout", new
            {
                userId = "user-nats",
                sessionId = "sess-nats",
                cardType = "mastercard",
                cardNumber = "4242424242424242",
                items = new[] { new { productId = "p-001", quantity = 1 } },
            });
            Assert.True(
                response.StatusCode is HttpStatusCode.Created or HttpStatusCode.GatewayTimeout,
                $"checkout answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}{Environment.NewLine}{string.Join(Environment.NewLine, output)}");
            traceId = response.StatusCode == HttpStatusCode.Created ? response.Headers.GetValues("x-trace-id").Single() : null;
        }

        Assert.NotNull(traceId);
        var spans = await JaegerTrace.WaitForAsync(ariadne.Query, traceId, ["gateway", "orders", "notifications"], s => s.Any(x => x.Service == "notifications" && x.Kind == "consumer" && s.Any(p => p.SpanId == x.ParentId)));
        var consumer = spans.Single(s => s.Service == "notifications" && s.Kind == "consumer");
        var producer = spans.Single(s => s.SpanId == consumer.ParentId);
        Assert.Equal(("orders", "producer", "nats"), (producer.Service, producer.Kind, producer.Tag("messaging.system")));
        Assert.Equal("nats", consumer.Tag("messaging.system"));
        Assert.Equal("user-nats", consumer.Tag("user.id"));
        Assert.StartsWith("ord-", consumer.Tag("order.id"));
    }
}
