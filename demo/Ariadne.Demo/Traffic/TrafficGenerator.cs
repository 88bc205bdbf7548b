using System.Globalization;
using System.Net.Http.Json;
using Ariadne.Demo.Shop;

namespace Ariadne.Demo.Traffic;

/// <summary>
/// Shoppers against the gateway: a weighted mix of scenarios at a steady rate. Scenario weights and the rate come
/// from DEMO_RATE (requests per second) and DEMO_MIX ("browse=35,search=20,cart=20,checkout=15,declined=5,timeout=5").
/// </summary>
internal sealed class TrafficGenerator(HttpClient gateway, double ratePerSecond, IReadOnlyList<(string Scenario, int Weight)> mix)
{
    public const string DefaultMix = "browse=35,search=20,cart=20,checkout=15,declined=5,timeout=5";

    private static readonly string[] s_searches = ["tent", "shoes", "wool", "gear", "jacket", "lamp", "bottle"];
    private static readonly string[] s_cards = ["visa", "mastercard", "amex"];
    private static readonly string[] s_tiers = ["standard", "standard", "standard", "gold", "platinum"];

    private readonly int _totalWeight = mix.Sum(m => m.Weight);
    private long _sent;
    private long _failed;

    public static IReadOnlyList<(string, int)> ParseMix(string mix) =>
        [.. mix.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(part =>
        {
            var pieces = part.Split('=');
            return pieces.Length == 2 && Scenarios.Contains(pieces[0]) && int.TryParse(pieces[1], CultureInfo.InvariantCulture, out var weight) && weight >= 0
                ? (pieces[0], weight)
                : throw new FormatException($"DEMO_MIX: '{part}' should be scenario=weight with a scenario among {string.Join(", ", Scenarios)}");
        })];

    public static IReadOnlySet<string> Scenarios { get; } = new HashSet<string>(["browse", "search", "cart", "checkout", "declined", "timeout"], StringComparer.Ordinal);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / Math.Max(0.01, ratePerSecond)));
        var report = DateTime.UtcNow.AddSeconds(30);
        var inFlight = new List<Task>();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                inFlight.RemoveAll(t => t.IsCompleted);
                if (inFlight.Count < 64)
                {
                    inFlight.Add(RunOneAsync(Pick(), cancellationToken));
                }

                if (DateTime.UtcNow > report)
                {
                    report = DateTime.UtcNow.AddSeconds(30);
                    Console.WriteLine($"traffic: {Interlocked.Read(ref _sent)} requests, {Interlocked.Read(ref _failed)} answered with an error (expected: declined cards, timeouts, injected faults)");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    /// <summary>Runs one scenario; the answer's status code and the trace id the gateway reported.</summary>
    public async Task<(int Status, string? TraceId)> RunOneAsync(string scenario, CancellationToken cancellationToken)
    {
        var session = $"sess-{Random.Shared.Next(1, 5000):D4}";
        var user = $"user-{Random.Shared.Next(1, 2000):D4}";
        try
        {
            using var response = scenario switch
            {
                "browse" => await gateway.GetAsync($"/api/products/{Pick(Catalog.RegularProductIds)}", cancellationToken),
                "search" => await gateway.GetAsync($"/api/products?q={Pick(s_searches)}", cancellationToken),
                "cart" => await gateway.PostAsJsonAsync($"/api/cart/{session}/items", new CartItem(Pick(Catalog.RegularProductIds), Random.Shared.Next(1, 3)), cancellationToken),
                "checkout" => await CheckoutAsync(user, session, Pick(Catalog.RegularProductIds), "4242424242424242", cancellationToken),
                "declined" => await CheckoutAsync(user, session, Pick(Catalog.RegularProductIds), PaymentsService.DeclinedCard, cancellationToken),
                "timeout" => await CheckoutAsync(user, session, Pick(Catalog.WarehouseProductIds), "4242424242424242", cancellationToken),
                _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "unknown scenario"),
            };
            Interlocked.Increment(ref _sent);
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref _failed);
            }

            return ((int)response.StatusCode, response.Headers.TryGetValues("x-trace-id", out var ids) ? ids.First() : null);
        }
        catch (HttpRequestException e)
        {
            Interlocked.Increment(ref _failed);
            Console.Error.WriteLine($"traffic: {scenario} failed: {e.Message}");
            return (0, null);
        }
    }

    private Task<HttpResponseMessage> CheckoutAsync(string user, string session, string productId, string card, CancellationToken cancellationToken) =>
        gateway.PostAsJsonAsync(
            "/api/checkout",
            new Checkout(user, session, Pick(s_cards), card, [new CheckoutItem(productId, Random.Shared.Next(1, 3))], Pick(s_tiers)),
            cancellationToken);

    private string Pick()
    {
        var roll = Random.Shared.Next(_totalWeight);
        foreach (var (scenario, weight) in mix)
        {
            if (roll < weight)
            {
                return scenario;
            }

            roll -= weight;
        }

        return mix[^1].Scenario;
    }

    private static T Pick<T>(IReadOnlyList<T> items) => items[Random.Shared.Next(items.Count)];
}
