using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Ariadne.Alerts;
using Ariadne.Analysis;
using Ariadne.Configuration;
using Ariadne.Demo;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Query;
using Ariadne.Storage;
using Ariadne.Storage.Memory;
using Ariadne.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace Ariadne.Tests.Demo;

/// <summary>
/// Every fault switch that `ariadne demo` prints makes its alert fire, every time, and the alert resolves once the
/// switch is off. The shop runs for real (six processes and its own traffic generator with its default scenario mix)
/// and its traces are recorded under each switch. The alert engine then runs with the demo's own rules, reading RED
/// from the server's pre-sampling aggregator, over those traces replayed at the demo's request rate on a virtual
/// clock: a two-minute window takes no two minutes, and each run is repeatable (seeded), at several clock phases.
/// </summary>
[Collection(QuietCollection.Name)]
public sealed class DemoFaultAlertTests(DemoFaultAlertTests.Recording recording) : IClassFixture<DemoFaultAlertTests.Recording>
{
    private static readonly AlertOptions s_demoAlerts = ConfigurationLoader.Load(null, DemoConfiguration.Server("/tmp/unused")).Alerts;

    [Theory]
    [InlineData("errorBurst", "GatewayErrors")]
    [InlineData("slowInventory", "InventorySlow")]
    [InlineData("slowSql", "CatalogSearchSlow")]
    public async Task The_switch_fires_its_alert_at_every_clock_phase_and_the_alert_resolves_when_it_is_off(string fault, string alert)
    {
        for (var seed = 0; seed < 8; seed++)
        {
            var replay = new Replay(recording, seed);
            // Other rules may fire too while a fault is on (a burst leaves inventory few reservations to judge, and they
            // are the slowest kind on a busy machine), but never under normal traffic.
            await replay.RunAsync("none", TimeSpan.FromMinutes(5), stopWhen: null);
            Assert.All(replay.Engine.States, s => Assert.True(s.State == AlertState.Inactive, replay.Explain($"{s.Rule.Name} is {s.State} under normal traffic")));

            if (fault == "errorBurst")
            {
                // A burst ends by itself: the command the demo prints asks for this long.
                await replay.RunAsync(fault, TimeSpan.FromSeconds(DemoConfiguration.ErrorBurstSeconds), stopWhen: null);
                await replay.RunAsync("none", TimeSpan.FromMinutes(2), stopWhen: alert);
            }
            else
            {
                await replay.RunAsync(fault, TimeSpan.FromMinutes(4), stopWhen: alert);
            }

            Assert.True(replay.State(alert) == AlertState.Firing, replay.Explain($"{alert} did not fire with {fault} on"));
            await replay.RunAsync("none", TimeSpan.FromMinutes(4), stopWhen: null, resolving: alert);
            Assert.True(replay.State(alert) == AlertState.Resolved, replay.Explain($"{alert} did not resolve after {fault} was switched off"));
        }
    }

    [Fact]
    public void An_injected_error_is_one_line_in_the_log_without_a_stack_trace()
    {
        var injected = recording.Output.Where(l => l.Contains("injected error burst", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(injected);
        Assert.Equal(recording.InjectedErrorSpans, injected.Count);
        var exceptions = recording.Output.Where(l => l.Contains("unhandled exception", StringComparison.OrdinalIgnoreCase) || l.TrimStart().StartsWith("at ", StringComparison.Ordinal)).ToList();
        Assert.True(exceptions.Count == 0, string.Join(Environment.NewLine, exceptions));
    }

    [Fact]
    public void The_gateway_listens_on_the_port_it_was_given_so_printed_fault_commands_keep_working()
    {
        Assert.Equal(recording.GatewayPort, recording.Gateway!.Port);
    }

    [Fact]
    public async Task A_gateway_port_in_use_stops_the_demo_with_what_to_do()
    {
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var options = new DemoShopOptions { OtlpEndpoint = new Uri("http://127.0.0.1:4317"), DemoDirectory = Path.Combine(AppContext.BaseDirectory, "demo"), GatewayPort = port };
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => DemoShop.StartAsync(options, CancellationToken.None));
        Assert.Contains($"port {port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("--gateway-port", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The demo's rules, engine and pre-sampling RED source on a virtual clock, fed recorded traces.</summary>
    private sealed class Replay
    {
        private readonly Recording _recording;
        private readonly Random _random;
        private readonly FakeTimeProvider _time;
        private readonly SpanMetricsAggregator _metrics = new(Metrics.NewCustomRegistry());
        private readonly PriorityQueue<Span[], long> _inFlight = new();
        private readonly List<string> _history = [];
        private ulong _nextTrace = 1;
        private DateTimeOffset _nextRequest;
        private DateTimeOffset _nextEvaluation;

        public Replay(Recording recording, int seed)
        {
            _recording = recording;
            _random = new Random(seed);

            // A different phase of the evaluation clock against minute boundaries for each seed.
            _time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero).AddSeconds(seed * 7.3));
            Engine = new AlertEngine(
                s_demoAlerts, "http://localhost:16686", new SpanMetricsRedSource(_metrics, new StoredSpanRedSource(new MemorySpanStore(10)), _time), [], _time, NullLogger<AlertEngine>.Instance);
            _nextRequest = _time.GetUtcNow();
            _nextEvaluation = _time.GetUtcNow() + s_demoAlerts.EvaluationInterval;
        }

        public AlertEngine Engine { get; }

        public AlertState State(string rule) => Engine.States.Single(s => s.Rule.Name == rule).State;

        /// <summary>Runs the shop's traffic under <paramref name="fault"/>, evaluating the rules as the server does.</summary>
        public async Task RunAsync(string fault, TimeSpan duration, string? stopWhen, string? resolving = null)
        {
            var pool = _recording.Traces[fault];
            var end = _time.GetUtcNow() + duration;
            var step = TimeSpan.FromSeconds(1 / DemoConfiguration.TrafficRate);
            while (_time.GetUtcNow() < end)
            {
                var next = _nextRequest < _nextEvaluation ? _nextRequest : _nextEvaluation;
                _time.SetUtcNow(next);
                Deliver();
                if (next == _nextRequest)
                {
                    Start(pool[_random.Next(pool.Count)]);
                    _nextRequest += step;
                    continue;
                }

                await Engine.EvaluateAsync(CancellationToken.None);
                _nextEvaluation += s_demoAlerts.EvaluationInterval;
                _history.Add($"{_time.GetUtcNow():HH:mm:ss} {fault,-13} " + string.Join("  ", Engine.States.Select(s => $"{s.Rule.Name}={s.State}({AlertEngine.Format(s.Rule, s.Value)})")));
                if ((stopWhen is not null && State(stopWhen) == AlertState.Firing) || (resolving is not null && State(resolving) == AlertState.Resolved))
                {
                    return;
                }
            }
        }

        public string Explain(string problem) => $"{problem}; evaluations:{Environment.NewLine}{string.Join(Environment.NewLine, _history)}";

        /// <summary>A recorded trace, moved to start now under a fresh trace id.</summary>
        private void Start(IReadOnlyList<Span> recorded)
        {
            var offset = TraceQueryService.ToNanos(_time.GetUtcNow()) - recorded.Min(s => s.StartTimeUnixNano);
            var traceId = new TraceId(7, _nextTrace++);
            var spans = recorded.Select(s => new Span
            {
                TraceId = traceId, SpanId = s.SpanId, ParentSpanId = s.ParentSpanId, Name = s.Name, Kind = s.Kind, Resource = s.Resource,
                StartTimeUnixNano = s.StartTimeUnixNano + offset, EndTimeUnixNano = s.EndTimeUnixNano + offset, StatusCode = s.StatusCode,
            }).ToArray();

            // Spans reach the server when they end (the shop's SDKs export every 500 ms), the root last.
            _inFlight.Enqueue(spans, spans.Max(s => s.EndTimeUnixNano) + 500_000_000);
        }

        private void Deliver()
        {
            var now = TraceQueryService.ToNanos(_time.GetUtcNow());
            while (_inFlight.TryPeek(out var spans, out var arrival) && arrival <= now)
            {
                _inFlight.Dequeue();
                _metrics.Observe("default", spans);
            }
        }
    }

    /// <summary>
    /// The shop, run once for the class: its traffic generator at a few times the demo's rate (the rules look at
    /// ratios and percentiles, not at the rate) under each switch in turn, then every trace of each period.
    /// </summary>
    public sealed class Recording : IAsyncLifetime
    {
        private const double RecordingRate = 10;
        private const int TracesPerFault = 120;

        private static readonly (string Name, object Body)[] s_faults =
        [
            // Discarded: a fresh shop's first requests JIT-compile every hop, and the demo's alerts are not meant for that minute.
            ("warmup", new { }),
            ("none", new { }),
            ("errorBurst", new { errorBurstSeconds = 3600 }),
            ("slowInventory", new { slowInventoryMs = DemoConfiguration.SlowInventoryMs }),
            ("slowSql", new { slowSql = true }),
        ];

        private readonly ServerFixture _server = new();
        private readonly ConcurrentQueue<string> _output = new();

        /// <summary>Where the gateway was asked to listen, as `ariadne demo --gateway-port` asks.</summary>
        public int GatewayPort { get; } = FreePort.Next();

        /// <summary>Where the gateway listened.</summary>
        public Uri? Gateway { get; private set; }

        public Dictionary<string, IReadOnlyList<IReadOnlyList<Span>>> Traces { get; } = [];

        public IReadOnlyList<string> Output => [.. _output];

        /// <summary>Spans the error burst failed (tagged demo.fault=error_burst) over the whole run.</summary>
        public int InjectedErrorSpans { get; private set; }

        public async Task InitializeAsync()
        {
            await _server.InitializeAsync();
            var periods = new List<(string Fault, DateTimeOffset From, DateTimeOffset To)>();
            var store = _server.Server.Services.GetRequiredService<ISpanStore>();
            DemoShop shop;
            try
            {
                shop = await DemoShop.StartAsync(
                    new DemoShopOptions
                    {
                        OtlpEndpoint = _server.Server.GetUri(Listener.OtlpGrpc),
                        DemoDirectory = Path.Combine(AppContext.BaseDirectory, "demo"),
                        GatewayPort = GatewayPort,
                        TrafficRate = RecordingRate,
                        Output = (service, line) => _output.Enqueue($"{service}| {line}"),
                    },
                    CancellationToken.None);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"{e.Message}{Environment.NewLine}{string.Join(Environment.NewLine, _output)}", e);
            }

            Gateway = shop.Gateway;
            await using (shop)
            {
                using var gateway = new HttpClient { BaseAddress = shop.Gateway };
                foreach (var (fault, body) in s_faults)
                {
                    await SwitchAsync(shop, gateway, body);
                    var from = DateTimeOffset.UtcNow;
                    await Poll.UntilAsync(
                        async () => (await RootsAsync(store, from, DateTimeOffset.MaxValue)).Count >= TracesPerFault,
                        $"{TracesPerFault} gateway requests with {fault}",
                        TimeSpan.FromMinutes(2),
                        TimeSpan.FromMilliseconds(500));
                    periods.Add((fault, from, DateTimeOffset.UtcNow));
                }

                await SwitchAsync(shop, gateway, new { });
            }

            // The shop's processes flushed their spans on the way out; wait until the server has stored all it accepted.
            await Poll.UntilAsync(async () => store.GetStats().Spans >= await AcceptedSpansAsync(), "every accepted span stored", TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(200));
            foreach (var (fault, from, to) in periods)
            {
                // Only requests that began and ended while the switch was in this position.
                Traces[fault] = [.. (await RootsAsync(store, from, to)).Where(t => t.Single(s => s.IsRoot).EndTimeUnixNano <= TraceQueryService.ToNanos(to))];
            }

            var all = await store.FindTracesAsync("default", new TraceQuery { Limit = 100_000 }, CancellationToken.None);
            InjectedErrorSpans = all.SelectMany(t => t).Count(s => s.TryGetAttribute("demo.fault", out var v) && v.AsString == "error_burst");
        }

        public async Task DisposeAsync() => await _server.DisposeAsync();

        /// <summary>Turns the switches to <paramref name="body"/> and waits until every service applies them.</summary>
        private static async Task SwitchAsync(DemoShop shop, HttpClient gateway, object body)
        {
            using var response = await gateway.PostAsJsonAsync("/admin/faults", body);
            response.EnsureSuccessStatusCode();
            var applied = await response.Content.ReadAsStringAsync();
            using var http = new HttpClient();
            foreach (var service in DemoShop.Services)
            {
                await Poll.UntilAsync(
                    async () =>
                    {
                        // The gRPC services speak HTTP/2 only (h2c).
                        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(shop.UrlOf(service), "/admin/faults"))
                        {
                            Version = HttpVersion.Version20,
                            VersionPolicy = service is "inventory" or "payments" ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
                        };
                        using var answer = await http.SendAsync(request);
                        return await answer.Content.ReadAsStringAsync() == applied;
                    },
                    $"{service} to apply the faults {applied}");
            }
        }

        private static async Task<IReadOnlyList<IReadOnlyList<Span>>> RootsAsync(ISpanStore store, DateTimeOffset from, DateTimeOffset to)
        {
            var traces = await store.FindTracesAsync("default", new TraceQuery { ServiceName = "gateway", StartTimeMin = from, StartTimeMax = to, Limit = 10_000 }, CancellationToken.None);
            var fromNanos = TraceQueryService.ToNanos(from);
            return [.. traces.Where(t => t.Count(s => s.IsRoot) == 1 && t.Single(s => s.IsRoot) is { ServiceName: "gateway" } root && root.StartTimeUnixNano >= fromNanos)];
        }

        private async Task<long> AcceptedSpansAsync()
        {
            var text = await _server.Query.GetStringAsync("/metrics");
            return (long)text.Split('\n')
                .Where(l => l.StartsWith("ariadne_spans_accepted_total{", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        }
    }
}
