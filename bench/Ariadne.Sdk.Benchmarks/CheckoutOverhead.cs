using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Ariadne.Configuration;
using Ariadne.Demo;
using Ariadne.Hosting;
using Microsoft.Extensions.Logging;

namespace Ariadne.Sdk.Benchmarks;

/// <summary>
/// SDK overhead on the demo checkout, measured side by side in one run: two copies of the shop (six processes
/// each), one tracing every request (always_on, exporting over OTLP to a real Ariadne server), one with the SDK
/// disabled (OTEL_SDK_DISABLED=true). Checkouts alternate between them, in random order per pair, so load and
/// machine noise hit both equally. With <c>sink</c>, the traced shop exports to an OTLP endpoint that reads each
/// request and answers success without decoding it, instead of the Ariadne server: on one machine the server's
/// ingest competes with the shop for the same cores, and the ADR's overhead is the application's, so the two
/// figures together tell the SDK's cost from the server's.
/// </summary>
internal static class CheckoutOverhead
{
    private const int WarmupBlockPairs = 100;
    private const int MaxExtraWarmupPairs = 5000;

    public static async Task<int> RunAsync(int pairs, int warmup, bool simulatedCardLatency, bool sink)
    {
        var loadBefore = LoadAverage();
        var data = Directory.CreateTempSubdirectory("ariadne-overhead-").FullName;
        var options = new AriadneOptions
        {
            ListenAddress = "127.0.0.1",
            DataDirectory = data,
            Ports = new PortOptions { OtlpGrpc = 0, OtlpHttp = 0, Zipkin = 0, Query = 0, Sampling = 0, JaegerThriftHttp = 0, JaegerGrpc = 0, JaegerCompact = 0, JaegerBinary = 0, Tempo = 0 },
        };
        await using var server = AriadneServer.Create(options, logging => logging.SetMinimumLevel(LogLevel.Warning));
        await server.StartAsync();
        await using var discard = sink ? await OtlpSink.StartAsync() : null;
        var endpoint = discard?.Endpoint ?? server.GetUri(Listener.OtlpGrpc);
        var quiet = new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Warning",
            ["DEMO_CARD_PROCESSOR_MEDIAN_MS"] = simulatedCardLatency ? "70" : "0",

            // The SDK's own export schedule, as a service gets it from AddAriadneTracing: `ariadne demo` exports every
            // 500 ms so that traces show up at once, ten times as many exports as a deployed service makes.
            ["OTEL_BSP_SCHEDULE_DELAY"] = "5000",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "5000",
        };
        await using var traced = await DemoShop.StartAsync(
            new DemoShopOptions { OtlpEndpoint = endpoint, Environment = new Dictionary<string, string>(quiet) { ["OTEL_TRACES_SAMPLER"] = "always_on" } },
            CancellationToken.None);
        await using var untraced = await DemoShop.StartAsync(
            new DemoShopOptions { OtlpEndpoint = endpoint, Environment = new Dictionary<string, string>(quiet) { ["OTEL_SDK_DISABLED"] = "true" } },
            CancellationToken.None);

        using var tracedClient = new HttpClient { BaseAddress = traced.Gateway };
        using var untracedClient = new HttpClient { BaseAddress = untraced.Gateway };
        var tracedMs = new List<double>(pairs);
        var untracedMs = new List<double>(pairs);
        var failedPairs = 0;
        var cpuStart = CpuSnapshot.Take(traced, untraced);
        var i = 0;
        async Task PairAsync(bool measured)
        {
            var first = Random.Shared.Next(2) == 0;
            var a = await CheckoutAsync(first ? tracedClient : untracedClient, i);
            var b = await CheckoutAsync(first ? untracedClient : tracedClient, i);
            i++;
            if (a is null || b is null)
            {
                // A checkout that failed (a cold gRPC connection missing the inventory deadline) says nothing about
                // tracing cost: the pair is dropped, and counted.
                failedPairs += measured ? 1 : 0;
            }
            else if (measured)
            {
                tracedMs.Add(first ? a.Value : b.Value);
                untracedMs.Add(first ? b.Value : a.Value);
            }
        }

        while (i < warmup)
        {
            await PairAsync(measured: false);
        }

        // Then on until the JIT has settled in both shops: its tier-up thread under 5 % of their CPU over a block of
        // pairs. Measured while it still compiles, the figure is the warm-up's (docs/PERFORMANCE.md, session 8).
        var cpuBefore = CpuSnapshot.Take(traced, untraced);
        while (cpuBefore.CanTellJit && i < warmup + MaxExtraWarmupPairs)
        {
            for (var block = 0; block < WarmupBlockPairs; block++)
            {
                await PairAsync(measured: false);
            }

            var after = CpuSnapshot.Take(traced, untraced);
            var settled = cpuBefore.JitShare(after) < 0.05;
            cpuBefore = after;
            if (settled)
            {
                break;
            }
        }

        var warmedUp = i;
        for (var measuredPairs = 0; measuredPairs < pairs; measuredPairs++)
        {
            await PairAsync(measured: true);
        }

        Console.WriteLine($"SDK overhead on demo checkout: {tracedMs.Count} pairs ({failedPairs} failed pairs dropped) after {warmedUp} warm-up pairs, simulated card processor latency {(simulatedCardLatency ? "on (median 70 ms)" : "off")}, exporting to {(sink ? "a discarding OTLP sink" : "the Ariadne server")}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        Console.WriteLine($"load average (1, 5, 15 min): {loadBefore} before, {LoadAverage()} after");
        Console.WriteLine("| shop | mean ms | p50 ms | p90 ms | p99 ms |");
        Console.WriteLine("|---|---|---|---|---|");
        Console.WriteLine(Row("tracing disabled (OTEL_SDK_DISABLED)", untracedMs));
        Console.WriteLine(Row("tracing at 100% (always_on, OTLP export)", tracedMs));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ratio traced/untraced: mean {tracedMs.Average() / untracedMs.Average():F3}, p50 {Percentile(tracedMs, 0.5) / Percentile(untracedMs, 0.5):F3}, p90 {Percentile(tracedMs, 0.9) / Percentile(untracedMs, 0.9):F3}, p99 {Percentile(tracedMs, 0.99) / Percentile(untracedMs, 0.99):F3}"));
        Console.WriteLine();
        cpuStart.PrintWarmup(cpuBefore, warmedUp);
        cpuBefore.PrintPerCheckout(CpuSnapshot.Take(traced, untraced), pairs);
        await server.StopAsync();
        Directory.Delete(data, recursive: true);
        return 0;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static async Task<double?> CheckoutAsync(HttpClient gateway, int i)
    {
        var product = $"p-{i % 18:D3}";
        var started = Stopwatch.GetTimestamp();
        using var response = await gateway.PostAsJsonAsync("/api/checkout", new
        {
            userId = $"user-{i % 500:D4}",
            sessionId = $"sess-{i:D6}",
            cardType = "visa",
            cardNumber = "4242424242424242",
            items = new[] { new { productId = product, quantity = 1 } },
        });
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return response.IsSuccessStatusCode ? elapsed : null;
    }

    private static string Row(string name, List<double> ms) => string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {ms.Average():F2} | {Percentile(ms, 0.5):F2} | {Percentile(ms, 0.9):F2} | {Percentile(ms, 0.99):F2} |");

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }
}
