using Ariadne.Alerts;
using Ariadne.Model;
using Ariadne.Query;
using Ariadne.Storage.Memory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Ariadne.Tests.Alerts;

/// <summary>The rule state machine on a simulated clock, reading RED from spans in the memory store.</summary>
public sealed class AlertEngineTests : IAsyncDisposable
{
    private static readonly Resource s_orders = new() { ServiceName = "orders" };
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly MemorySpanStore _store = new(100_000);
    private readonly RecordingNotifier _notifier = new();
    private ulong _nextId = 1;

    private AlertEngine Engine(params AlertRuleOptions[] rules) => new(
        new AlertOptions { Rules = [.. rules], EvaluationInterval = TimeSpan.FromMinutes(1) },
        "http://ariadne.example:16686", new StoredSpanRedSource(_store), [_notifier], _time, NullLogger<AlertEngine>.Instance);

    /// <summary><paramref name="count"/> checkouts in the minute before now, <paramref name="errors"/> of them failed.</summary>
    private async Task TrafficAsync(int count, int errors = 0, long durationMs = 100)
    {
        var spans = new List<Span>();
        var end = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
        for (var i = 0; i < count; i++)
        {
            var id = _nextId++;
            var start = end - 60_000_000_000L + i * (60_000_000_000L / count);
            spans.Add(new Span
            {
                TraceId = new TraceId(7, id), SpanId = new SpanId(id), Name = "POST /checkout", Kind = SpanKind.Server, Resource = s_orders,
                StartTimeUnixNano = start, EndTimeUnixNano = start + durationMs * 1_000_000,
                StatusCode = i < errors ? StatusCode.Error : StatusCode.Unset,
            });
        }

        await _store.AppendAsync("default", spans, CancellationToken.None);
    }

    private static AlertRuleOptions ErrorRule(TimeSpan forDuration) => new()
    {
        Name = "CheckoutErrors", Service = "orders", Operation = "POST /checkout", Signal = AlertSignal.ErrorRate,
        Above = 0.05, Window = TimeSpan.FromMinutes(1), For = forDuration,
    };

    [Theory]
    [InlineData(AlertSignal.ErrorRate, 0.2, null, 0.1141, "error rate of gateway is 11.41%, under 20%")]
    [InlineData(AlertSignal.ErrorRate, 0.2, null, 0.25, "error rate of gateway is 25%, over 20%")]
    [InlineData(AlertSignal.Latency, 300.0, null, 0.438, "p50 of gateway is 438µs, under 300ms")]
    [InlineData(AlertSignal.Latency, 300.0, null, 300.0004, "p50 of gateway is 300ms, at 300ms")]
    [InlineData(AlertSignal.Rate, null, 5.0, 8.0, "rate of gateway is 8/s, over 5/s")]
    [InlineData(AlertSignal.Rate, null, 5.0, 2.0, "rate of gateway is 2/s, under 5/s")]
    [InlineData(AlertSignal.ErrorRate, 0.2, null, null, "error rate of gateway: no data")]
    public void Summary_compares_the_value_with_the_limit_whether_or_not_the_rule_breaches(AlertSignal signal, double? above, double? below, double? value, string summary)
    {
        var rule = new AlertRuleOptions { Name = "R", Service = "gateway", Signal = signal, Percentile = 50, Above = above, Below = below };
        var (breach, limit) = AlertEngine.Judge(rule, value, baseline: null);
        var state = breach ? AlertState.Firing : AlertState.Inactive;
        Assert.Equal(summary, AlertEngine.Describe(new AlertStatus(rule, state, value, null, limit, null, null, null, DateTimeOffset.UnixEpoch, null)));
    }

    [Fact]
    public async Task Breach_goes_pending_then_fires_after_for_then_resolves_once()
    {
        var engine = Engine(ErrorRule(TimeSpan.FromMinutes(2)));
        await TrafficAsync(100, errors: 20);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Pending, engine.States[0].State);
        Assert.Equal(0.2, engine.States[0].Value);
        Assert.Empty(_notifier.Sent);

        _time.Advance(TimeSpan.FromMinutes(1));
        await TrafficAsync(100, errors: 20);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Pending, engine.States[0].State);

        _time.Advance(TimeSpan.FromMinutes(1));
        await TrafficAsync(100, errors: 20);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Firing, engine.States[0].State);
        var firing = Assert.Single(Assert.Single(_notifier.Sent));
        Assert.False(firing.Resolved);
        Assert.Equal(_time.GetUtcNow(), firing.StartsAt);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(4), firing.EndsAt);
        Assert.Equal("CheckoutErrors", firing.Labels["alertname"]);
        Assert.Equal("POST /checkout", firing.Labels["operation"]);
        Assert.Equal("error rate of POST /checkout on orders is 20%, over 5%", firing.Annotations["summary"]);
        Assert.Equal("http://ariadne.example:16686/search?service=orders&operation=POST%20%2Fcheckout&lookback=1m&tags=error%3Dtrue", firing.GeneratorUrl);

        // Still breaching: resent, with the same start.
        _time.Advance(TimeSpan.FromMinutes(1));
        await TrafficAsync(100, errors: 30);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(2, _notifier.Sent.Count);
        Assert.Equal(firing.StartsAt, _notifier.Sent[1][0].StartsAt);

        _time.Advance(TimeSpan.FromMinutes(1));
        await TrafficAsync(100, errors: 1);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Resolved, engine.States[0].State);
        var resolved = Assert.Single(_notifier.Sent[2]);
        Assert.True(resolved.Resolved);
        Assert.Equal(_time.GetUtcNow(), resolved.EndsAt);

        // Resolved is sent once.
        _time.Advance(TimeSpan.FromMinutes(1));
        await TrafficAsync(100);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(3, _notifier.Sent.Count);
    }

    [Fact]
    public async Task A_short_breach_returns_from_pending_to_inactive_without_a_notification()
    {
        var engine = Engine(ErrorRule(TimeSpan.FromMinutes(5)));
        await TrafficAsync(50, errors: 10);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Pending, engine.States[0].State);
        _time.Advance(TimeSpan.FromMinutes(1));
        await TrafficAsync(50);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Inactive, engine.States[0].State);
        Assert.Empty(_notifier.Sent);
    }

    [Fact]
    public async Task Too_few_requests_are_no_evidence()
    {
        var engine = Engine(ErrorRule(TimeSpan.Zero));
        await TrafficAsync(5, errors: 5);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Inactive, engine.States[0].State);
        Assert.Null(engine.States[0].Value);
    }

    [Fact]
    public async Task Latency_anomaly_needs_both_the_absolute_limit_and_the_factor_over_baseline()
    {
        var rule = new AlertRuleOptions
        {
            Name = "CheckoutSlow", Service = "orders", Operation = "POST /checkout", Signal = AlertSignal.Latency, Percentile = 99,
            Above = 800, BaselineWindows = 3, Factor = 3, Window = TimeSpan.FromMinutes(1),
        };
        var engine = Engine(rule);
        for (var i = 0; i < 3; i++)
        {
            await TrafficAsync(50, durationMs: 300);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        // 2.4× the 300 ms baseline and over 800 ms: not an anomaly yet (the relative limit is 900 ms).
        await TrafficAsync(50, durationMs: 850);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Inactive, engine.States[0].State);
        Assert.Equal(900, engine.States[0].Limit);
        Assert.Equal(300, engine.States[0].Baseline);

        // Slower still, in the same window: the p99 is now 1.2 s.
        await TrafficAsync(50, durationMs: 1200);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Firing, engine.States[0].State);
        var alert = _notifier.Sent.Single().Single();
        Assert.Equal("p99 of POST /checkout on orders is 1.2s, over 900ms (3× baseline 300ms)", alert.Annotations["summary"]);
        Assert.Equal("p99", alert.Labels["signal"]);
        Assert.EndsWith("&lookback=1m&minDuration=900ms", alert.GeneratorUrl);
    }

    [Fact]
    public async Task Rate_drop_against_the_baseline_fires()
    {
        var rule = new AlertRuleOptions
        {
            Name = "CheckoutTrafficDrop", Service = "orders", Operation = "POST /checkout", Signal = AlertSignal.Rate,
            BaselineWindows = 2, Factor = 4, Window = TimeSpan.FromMinutes(1),
        };
        var engine = Engine(rule);
        await TrafficAsync(120);
        _time.Advance(TimeSpan.FromMinutes(1));
        await TrafficAsync(120);
        _time.Advance(TimeSpan.FromMinutes(1));
        await TrafficAsync(60);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Inactive, engine.States[0].State);
        _time.Advance(TimeSpan.FromMinutes(1));
        await TrafficAsync(12);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Firing, engine.States[0].State);
        Assert.Equal(0.2, engine.States[0].Value!.Value, 6);
    }

    [Fact]
    public async Task The_background_service_evaluates_on_the_injected_clock()
    {
        var engine = Engine(ErrorRule(TimeSpan.Zero));
        await TrafficAsync(100, errors: 50);
        using var service = new AlertService(engine, _time, NullLogger<AlertService>.Instance);
        await service.StartAsync(CancellationToken.None);
        await WaitForAsync(() => engine.States[0].EvaluatedAt is not null);
        Assert.Equal(AlertState.Firing, engine.States[0].State);
        var first = engine.States[0].EvaluatedAt;

        _time.Advance(TimeSpan.FromMinutes(1));
        await WaitForAsync(() => engine.States[0].EvaluatedAt != first);
        Assert.Equal(AlertState.Resolved, engine.States[0].State);
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void Config_errors_name_the_key()
    {
        var errors = AlertServiceCollectionExtensions.Validate(new AlertOptions
        {
            AlertmanagerUrl = "alertmanager:9093",
            Rules = [new AlertRuleOptions { Name = "x", Service = "orders", Signal = AlertSignal.Latency, Percentile = 42, Above = 1 }, new AlertRuleOptions { Name = "x", Service = "" }],
        }).ToList();
        Assert.Contains(errors, e => e.StartsWith("Alerts:AlertmanagerUrl:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Alerts:Rules:0:Percentile:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Alerts:Rules:1:Name:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Alerts:Rules:1:Service:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Alerts:Rules:1: set Above", StringComparison.Ordinal));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    public async ValueTask DisposeAsync() => await _store.DisposeAsync();

    private sealed class RecordingNotifier : IAlertNotifier
    {
        public List<IReadOnlyList<AlertNotification>> Sent { get; } = [];

        public Task SendAsync(IReadOnlyList<AlertNotification> alerts, CancellationToken cancellationToken)
        {
            Sent.Add(alerts);
            return Task.CompletedTask;
        }
    }
}

public sealed class AlertConfigTests
{
    [Fact]
    public void Rules_bind_from_the_Alerts_section_of_the_config_file()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("ariadne-alerts-").FullName, "ariadne.json");
        File.WriteAllText(file, """
            {
              "Alerts": {
                "AlertmanagerUrl": "http://127.0.0.1:9093",
                "EvaluationInterval": "00:00:15",
                "Rules": [
                  { "Name": "CheckoutSlow", "Service": "orders", "Operation": "POST /checkout", "Signal": "Latency",
                    "Percentile": 99, "Above": 800, "BaselineWindows": 6, "Factor": 3, "Window": "00:05:00", "For": "00:02:00",
                    "Labels": { "team": "checkout" } },
                  { "Name": "OrdersErrors", "Service": "orders", "Signal": "ErrorRate", "Above": 0.05 }
                ]
              }
            }
            """);
        var options = Ariadne.Configuration.ConfigurationLoader.Load(file, new Dictionary<string, string?>());
        Assert.Equal(TimeSpan.FromSeconds(15), options.Alerts.EvaluationInterval);
        var slow = options.Alerts.Rules[0];
        Assert.Equal((AlertSignal.Latency, 99, 800.0, 6, 3.0), (slow.Signal, slow.Percentile, slow.Above!.Value, slow.BaselineWindows, slow.Factor));
        Assert.Equal(TimeSpan.FromMinutes(2), slow.For);
        Assert.Equal("checkout", slow.Labels["team"]);
        Assert.Equal(AlertSignal.ErrorRate, options.Alerts.Rules[1].Signal);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }
}
