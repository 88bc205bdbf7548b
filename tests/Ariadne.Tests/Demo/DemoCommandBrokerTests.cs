using System.Collections.Concurrent;
using System.Diagnostics;
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
            await using var demo = await DemoProcess.StartAsync(data);
            // What the demo printed: the private broker it started, and where.
            var events = demo.Line("order events");
            Assert.Contains("(private broker started by ariadne demo)", events, StringComparison.Ordinal);
            var brokerPort = int.Parse(BrokerPort().Match(events).Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(await AcceptsAsync(brokerPort), $"the broker port {brokerPort} does not take connections");

            // A trace of the demo's own traffic holds the messaging hop: orders publishes, notifications consumes.
            using var query = new HttpClient { BaseAddress = demo.Query };
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
            Assert.Equal(0, await demo.InterruptAsync());
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

    /// <summary>`dotnet ariadne.dll demo` on free ports, its data in a temp directory; killed with its shop if the test fails.</summary>
    private sealed class DemoProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _output = new();
        private readonly TaskCompletionSource _running = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private DemoProcess(Process process) => _process = process;

        public Uri Query { get; private init; } = null!;

        public string Output => string.Join(Environment.NewLine, _output);

        public static async Task<DemoProcess> StartAsync(string dataDirectory)
        {
            var queryPort = FreePort();
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = dataDirectory,
            };
            foreach (var argument in new[]
            {
                Path.Combine(AppContext.BaseDirectory, "ariadne.dll"), "demo", "--data", Path.Combine(dataDirectory, "data"),
                "--query-port", Text(queryPort), "--otlp-grpc-port", Text(FreePort()), "--gateway-port", "0", "--mix", "checkout=1",
            })
            {
                start.ArgumentList.Add(argument);
            }

            // The other listeners on free ports (0), the Jaeger and Tempo ones off (0), all on loopback; and no broker
            // given, so the demo decides for itself.
            start.Environment["ARIADNE__ListenAddress"] = "127.0.0.1";
            foreach (var port in new[] { "OtlpHttp", "Zipkin", "Sampling", "JaegerThriftHttp", "JaegerGrpc", "JaegerCompact", "JaegerBinary", "Tempo" })
            {
                start.Environment[$"ARIADNE__Ports__{port}"] = "0";
            }

            start.Environment.Remove("ARIADNE_DEMO_RABBITMQ");
            start.Environment.Remove("ARIADNE_DEMO_NATS");

            var demo = new DemoProcess(Process.Start(start)!) { Query = new Uri($"http://127.0.0.1:{queryPort}") };
            demo._process.OutputDataReceived += (_, e) => demo.Record(e.Data);
            demo._process.ErrorDataReceived += (_, e) => demo.Record(e.Data);
            demo._process.BeginOutputReadLine();
            demo._process.BeginErrorReadLine();
            var exited = demo._process.WaitForExitAsync();
            if (await Task.WhenAny(demo._running.Task, exited, Task.Delay(TimeSpan.FromMinutes(3))) != demo._running.Task)
            {
                await demo.DisposeAsync();
                throw new InvalidOperationException($"ariadne demo did not come up:{Environment.NewLine}{demo.Output}");
            }

            return demo;
        }

        /// <summary>The first line the demo wrote that starts with <paramref name="label"/> (after indentation).</summary>
        public string Line(string label) =>
            _output.FirstOrDefault(l => l.TrimStart().StartsWith(label, StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"ariadne demo wrote no '{label}' line:{Environment.NewLine}{Output}");

        /// <summary>SIGINT, as Ctrl+C in a terminal; returns the exit code once the demo has stopped everything it started.</summary>
        public async Task<int> InterruptAsync()
        {
            // A process started in the background by a shell without job control (`nohup bash .ci/run &`) has SIGINT
            // ignored, and the demo inherits that: then SIGTERM, which the demo handles the same way.
            var signal = SigIntIgnored() ? "-TERM" : "-INT";
            using (var kill = Process.Start("kill", [signal, Text(_process.Id)]))
            {
                await kill.WaitForExitAsync();
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"ariadne demo did not stop within a minute of Ctrl+C:{Environment.NewLine}{Output}");
            }

            return _process.ExitCode;
        }

        private static bool SigIntIgnored()
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
            return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0x2) != 0;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                // The shop's processes and the broker are the demo's children.
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private void Record(string? line)
        {
            if (line is null)
            {
                return;
            }

            _output.Enqueue(line);
            if (line.StartsWith("Ariadne demo is running", StringComparison.Ordinal))
            {
                _running.TrySetResult();
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
    }
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
