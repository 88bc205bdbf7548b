using Ariadne.Analysis;
using Ariadne.Model;
using Ariadne.Query;
using Ariadne.Sampling;
using Ariadne.Sampling.Tail;
using Ariadne.Storage;
using Ariadne.Storage.Memory;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace Ariadne.Tests.Query;

/// <summary>
/// With tail sampling storing every error trace and a tenth of the rest, the service overview and the dependencies
/// read the counts taken before sampling, not the skewed sample. The clock sits on a minute boundary, so windows
/// of whole minutes are exact.
/// </summary>
public sealed class PreSamplingFiguresTests
{
    private static readonly Resource s_gateway = new() { ServiceName = "gateway" };
    private static readonly Resource s_orders = new() { ServiceName = "orders" };
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly SpanMetricsAggregator _metrics = new(Metrics.NewCustomRegistry());
    private readonly ServiceGraphAggregator _graph;
    private readonly MemorySpanStore _store = new(100_000);
    private ulong _nextTrace = 1;

    public PreSamplingFiguresTests() => _graph = new ServiceGraphAggregator(Metrics.NewCustomRegistry(), _time);

    [Fact]
    public async Task Overview_and_dependencies_count_every_call_while_storage_holds_a_sample()
    {
        var figures = Figures(tailPolicies: true);
        var (start, end) = await FiveMinutesOfCheckoutsAsync();

        var overview = await OverviewAsync(figures, start, end);
        Assert.True(overview.CountedBeforeSampling);
        var orders = Assert.Single(overview.Operations);
        Assert.Equal(("POST /orders", SpanKind.Server, 500, 10), (orders.Operation, orders.Kind, orders.Count, orders.Errors));
        Assert.Equal(500 / 300.0, orders.RatePerSecond, 6);
        Assert.InRange(orders.P50Nanos, 40_000_000, 60_000_000);
        Assert.Equal(5, orders.Buckets.Count);
        Assert.Equal(60, orders.Buckets.Sum(b => b.Count)); // the charts show the stored sample: 12 calls a minute

        // An order event orders sends to itself (producer and consumer in one service) is no dependency, as in Jaeger.
        var trace = new TraceId(9, 1);
        var at = start.AddMinutes(2);
        _graph.Observe("default", [Make(s_orders, trace, 1, 0, SpanKind.Producer, at, 1, StatusCode.Unset), Make(s_orders, trace, 2, 1, SpanKind.Consumer, at, 1, StatusCode.Unset)]);
        var links = await figures.GetDependenciesAsync("default", end, end - start, CancellationToken.None);
        Assert.Equal([new DependencyLink("gateway", "orders", 500, 10)], links);
        var stored = await _store.GetDependenciesAsync("default", end, end - start, CancellationToken.None);
        Assert.Equal(60, Assert.Single(stored).CallCount);
    }

    [Fact]
    public async Task Storage_answers_alone_while_it_keeps_every_span()
    {
        var (start, end) = await FiveMinutesOfCheckoutsAsync();
        var keepEverything = Figures(tailPolicies: false);
        Assert.False((await OverviewAsync(keepEverything, start, end)).CountedBeforeSampling);
        Assert.Equal(60, Assert.Single(await keepEverything.GetDependenciesAsync("default", end, end - start, CancellationToken.None)).CallCount);
    }

    [Fact]
    public async Task A_window_reaching_back_before_counting_began_adds_what_storage_holds_for_that_part()
    {
        // Stored before this process counted (a previous run): 3 calls, 1 failed, half an hour before counting began.
        var before = _time.GetUtcNow().AddMinutes(-30);
        for (var call = 0; call < 3; call++)
        {
            var trace = new TraceId(8, (ulong)call + 1);
            await _store.AppendAsync("default",
            [
                Make(s_gateway, trace, 1, 0, SpanKind.Client, before.AddSeconds(call), 60, StatusCode.Unset),
                Make(s_orders, trace, 2, 1, SpanKind.Server, before.AddSeconds(call), 80, call == 0 ? StatusCode.Error : StatusCode.Unset),
            ], CancellationToken.None);
        }

        var (_, end) = await FiveMinutesOfCheckoutsAsync();
        var figures = Figures(tailPolicies: true);
        var start = end.AddHours(-1);
        Assert.Equal([new DependencyLink("gateway", "orders", 503, 11)], await figures.GetDependenciesAsync("default", end, end - start, CancellationToken.None));

        var overview = await OverviewAsync(figures, start, end);
        Assert.True(overview.CountedBeforeSampling);
        var orders = Assert.Single(overview.Operations);
        Assert.Equal((503, 11), (orders.Count, orders.Errors));
        Assert.Equal(503 / 3600.0, orders.RatePerSecond, 6);
    }

    private PreSamplingFigures Figures(bool tailPolicies)
    {
        var options = new SamplingOptions();
        if (tailPolicies)
        {
            options.Tail.Policies.Add(new TailPolicyOptions { Name = "tenth", Type = "probabilistic", Probabilistic = new() { Sampling_Percentage = 10 } });
        }

        var sampler = new TailSampler(options, new TailSamplingMetrics(Metrics.NewCustomRegistry()), _time);
        return new PreSamplingFigures(_store, _metrics, _graph, sampler, _time);
    }

    /// <summary>
    /// From a minute after counting began: per minute 100 calls from gateway to orders, 2 of them failed (orders'
    /// server span errors), 40..59 ms. Every span goes through the aggregators; storage gets the failed calls and every
    /// tenth of the others, as tail sampling would keep them.
    /// </summary>
    private async Task<(DateTimeOffset Start, DateTimeOffset End)> FiveMinutesOfCheckoutsAsync()
    {
        var start = _time.GetUtcNow().AddMinutes(1);
        _time.Advance(TimeSpan.FromMinutes(6));
        var kept = new List<Span>();
        for (var minute = 0; minute < 5; minute++)
        {
            var spans = new List<Span>();
            for (var call = 0; call < 100; call++)
            {
                var trace = new TraceId(7, _nextTrace++);
                var at = start.AddMinutes(minute).AddMilliseconds(call * 100);
                var failed = call < 2;
                var client = Make(s_gateway, trace, 1, 0, SpanKind.Client, at, 60, StatusCode.Unset);
                var server = Make(s_orders, trace, 2, 1, SpanKind.Server, at, 40 + (call % 20), failed ? StatusCode.Error : StatusCode.Unset);
                spans.AddRange([client, server]);
                if (failed || call % 10 == 5)
                {
                    kept.AddRange([client, server]);
                }
            }

            _metrics.Observe("default", spans);
            _graph.Observe("default", spans);
        }

        await _store.AppendAsync("default", kept, CancellationToken.None);
        return (start, start.AddMinutes(5));
    }

    private async Task<ServiceOverview> OverviewAsync(PreSamplingFigures figures, DateTimeOffset start, DateTimeOffset end)
    {
        var query = new TraceQuery { ServiceName = "orders", StartTimeMin = start, StartTimeMax = end, Limit = 10_000 };
        var traces = await _store.FindTracesAsync("default", query, CancellationToken.None);
        var overview = OperationStatsCalculator.Compute("orders", traces, TraceQueryService.ToNanos(start), TraceQueryService.ToNanos(end), 5, truncated: false);
        return await figures.CorrectAsync("default", overview, traces, 5, CancellationToken.None);
    }

    private static Span Make(Resource resource, TraceId trace, ulong id, ulong parent, SpanKind kind, DateTimeOffset start, int milliseconds, StatusCode status)
    {
        var startNanos = TraceQueryService.ToNanos(start);
        return new Span
        {
            Resource = resource, TraceId = trace, SpanId = new SpanId(id), ParentSpanId = new SpanId(parent), Name = "POST /orders", Kind = kind,
            StartTimeUnixNano = startNanos, EndTimeUnixNano = startNanos + milliseconds * 1_000_000L, StatusCode = status,
        };
    }
}
