using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ariadne.Demo;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Demo;

/// <summary>
/// The real `ariadne demo` (the build output next to the tests) as a user runs it, with no broker given: it starts its
/// private RabbitMQ, the shop's order events go through it to notifications, and Ctrl+C stops it with the rest.
/// Run alone, after the parallel tests: in a full CI run beside them (and a fuzzer), stopping the demo's seven
/// processes and its broker once took over the minute the stop is given.
/// </summary>
[Collection(QuietCollection.Name)]
public sealed partial class DemoCommandBrokerTests
{
    [RabbitMqServerFact]
    public async Task Ariadne_demo_alone_starts_its_broker_and_notifications_consume_orders_events_through_it()
    {
        var data = Directory.CreateTempSubdirectory("ariadne-demo-command-").FullName;
        try
        {
            var queryPort = FreePort.Next();
            await using var demo = await StartDemoAsync(data, queryPort);
            // What the demo printed: the private broker it started, and where.
            var events = await demo.WaitForLineAsync("order events", TimeSpan.FromSeconds(10));
            Assert.Contains("(private broker started by ariadne demo)", events, StringComparison.Ordinal);
            var brokerPort = int.Parse(BrokerPort().Match(events).Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(await AcceptsAsync(brokerPort), $"the broker port {brokerPort} does not take connections");

            // A trace of the demo's own traffic holds the messaging hop: orders publishes, notifications consumes.
            using var query = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{queryPort}") };
            IReadOnlyList<JaegerSpan> spans = [];
            await Poll.UntilAsync(
                async () =>
                {
                    foreach (var traceId in await TraceIdsAsync(query, "notifications"))
                    {
                        spans = await JaegerTrace.GetAsync(query, traceId, CancellationToken.None);
                        if (spans.Any(s => s.Service == "notifications" && s.Kind == "consumer"))
                        {
                            return true;
                        }
                    }

                    return false;
                },
                $"a demo trace with a notifications consumer span; the demo wrote:{Environment.NewLine}{demo.Output}",
                TimeSpan.FromMinutes(2),
                TimeSpan.FromMilliseconds(500));

            var consumer = spans.First(s => s.Service == "notifications" && s.Kind == "consumer");
            var producer = spans.Single(s => s.SpanId == consumer.ParentId);
            Assert.Equal(("orders", "producer"), (producer.Service, producer.Kind));
            Assert.Equal("rabbitmq", producer.Tag("messaging.system"));
            Assert.Equal("rabbitmq", consumer.Tag("messaging.system"));

            // Ctrl+C stops the demo, and the broker it started with it.
            await demo.InterruptAsync();
            Assert.Equal(0, await demo.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.False(await AcceptsAsync(brokerPort), $"the private broker on port {brokerPort} outlived the demo");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<IReadOnlyList<string>> TraceIdsAsync(HttpClient query, string service)
    {
        using var response = await query.GetAsync($"/api/traces?service={service}&limit=20&lookback=1h");
        if (!response.IsSuccessStatusCode)
        {
            return [];
        }

        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("traceID").GetString()!).ToList();
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var probe = new TcpClient();
        try
        {
            await probe.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"amqp://127\.0\.0\.1:(\d+)/")]
    private static partial Regex BrokerPort();

    /// <summary>
    /// `dotnet ariadne.dll demo` on loopback and free ports (the Jaeger and Tempo listeners off), its data in a temp
    /// directory, and no broker given, so the demo decides for itself; returned once it says it is running.
    /// </summary>
    private static async Task<ExternalProcess> StartDemoAsync(string dataDirectory, int queryPort)
    {
        var environment = new Dictionary<string, string> { ["ARIADNE__ListenAddress"] = "127.0.0.1" };
        foreach (var port in new[] { "OtlpHttp", "Zipkin", "Sampling", "JaegerThriftHttp", "JaegerGrpc", "JaegerCompact", "JaegerBinary", "Tempo" })
        {
            environment[$"ARIADNE__Ports__{port}"] = "0";
        }

        var demo = ExternalProcess.Start(
            "dotnet",
            [
                Path.Combine(AppContext.BaseDirectory, "ariadne.dll"), "demo", "--data", Path.Combine(dataDirectory, "data"),
                "--query-port", Text(queryPort), "--otlp-grpc-port", Text(FreePort.Next()), "--gateway-port", "0", "--mix", "checkout=1",
            ],
            environment,
            workingDirectory: dataDirectory,
            unset: ["ARIADNE_DEMO_RABBITMQ", "ARIADNE_DEMO_NATS"]);
        try
        {
            await demo.WaitForLineAsync("Ariadne demo is running", TimeSpan.FromMinutes(3));
            return demo;
        }
        catch
        {
            // The shop's processes and the broker are the demo's children: its stop takes them down too.
            await demo.DisposeAsync();
            throw;
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A test that needs rabbitmq-server: skipped, with the reason, only where it is not installed.</summary>
public sealed class RabbitMqServerFactAttribute : FactAttribute
{
    public RabbitMqServerFactAttribute()
    {
        if (!DemoBroker.IsInstalled)
        {
            Skip = $"rabbitmq-server is not installed ({DemoBroker.ServerPath} is missing): apt-get install rabbitmq-server; scripts/test.sh installs it.";
        }
    }
}
