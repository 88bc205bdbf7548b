using System.Diagnostics;
using Ariadne.Instrumentation.Sampling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry.Trace;

namespace Ariadne.Tests.Instrumentation;

/// <summary>The remote sampler against a real HTTP endpoint serving Jaeger's documented JSON.</summary>
public sealed class JaegerRemoteSamplerTests : IAsyncLifetime
{
    private volatile string _strategy = """{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":1.0}}""";
    private volatile int _status = 200;
    private WebApplication _endpoint = null!;
    private string? _askedFor;

    public async Task InitializeAsync()
    {
        _endpoint = await BusinessContextTests.StartAppAsync(app => app.MapGet("/sampling", async (HttpContext context) =>
        {
            _askedFor = context.Request.Query["service"];
            context.Response.StatusCode = _status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(_strategy);
        }));
    }

    public async Task DisposeAsync() => await _endpoint.DisposeAsync();

    [Fact]
    public async Task Uses_the_initial_rate_until_the_first_answer_then_the_served_probability()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var slow = await BusinessContextTests.StartAppAsync(app => app.MapGet("/sampling", async () =>
        {
            await gate.Task;
            return Results.Text(_strategy, "application/json");
        }));
        using var sampler = new JaegerRemoteSampler("orders", Options(slow, initialRate: 0));

        Assert.Equal(0, SampledOutOf(sampler, "GET /", 200));
        gate.SetResult();
        await WaitForPollsAsync(sampler, 1);

        Assert.Equal(200, SampledOutOf(sampler, "GET /", 200));
    }

    [Fact]
    public async Task Asks_for_its_own_service_and_follows_a_changed_strategy()
    {
        using var sampler = new JaegerRemoteSampler("checkout service", Options(_endpoint, initialRate: 0));
        await WaitForPollsAsync(sampler, 1);
        Assert.Equal("checkout service", _askedFor);
        Assert.Equal(50, SampledOutOf(sampler, "GET /", 50));

        _strategy = """{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0}}""";
        await sampler.RefreshAsync();

        Assert.Equal(0, SampledOutOf(sampler, "GET /", 50));
    }

    [Fact]
    public async Task Rate_limiting_strategy_spends_one_credit_per_trace()
    {
        _strategy = """{"strategyType":"RATE_LIMITING","rateLimitingSampling":{"maxTracesPerSecond":0.0001}}""";
        using var sampler = new JaegerRemoteSampler("orders", Options(_endpoint, initialRate: 0));
        await WaitForPollsAsync(sampler, 1);

        // The bucket starts with one credit and refills one trace every ~3 hours.
        Assert.Equal(1, SampledOutOf(sampler, "GET /", 100));
    }

    [Fact]
    public async Task Per_operation_strategy_applies_operation_probabilities_and_the_lower_bound()
    {
        _strategy = """
            {"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0.5},
             "operationSampling":{"defaultSamplingProbability":0,"defaultLowerBoundTracesPerSecond":0.0001,
               "perOperationStrategies":[{"operation":"POST /checkout","probabilisticSampling":{"samplingRate":1}}]}}
            """;
        using var sampler = new JaegerRemoteSampler("orders", Options(_endpoint, initialRate: 0));
        await WaitForPollsAsync(sampler, 1);

        Assert.Equal(100, SampledOutOf(sampler, "POST /checkout", 100));

        // Unlisted operations get the default probability (0) plus one guaranteed trace from the lower bound.
        var first = sampler.ShouldSample(Parameters("GET /products"));
        Assert.Equal(SamplingDecision.RecordAndSample, first.Decision);
        Assert.Contains(first.Attributes, a => a.Key == "sampler.type" && (string)a.Value == "lowerbound");
        Assert.Equal(0, SampledOutOf(sampler, "GET /products", 100));
        Assert.Equal(1, SampledOutOf(sampler, "GET /search", 100));
    }

    [Fact]
    public async Task Keeps_the_last_good_strategy_when_the_endpoint_fails_or_answers_garbage()
    {
        using var sampler = new JaegerRemoteSampler("orders", Options(_endpoint, initialRate: 0));
        await WaitForPollsAsync(sampler, 1);
        Assert.Equal(20, SampledOutOf(sampler, "GET /", 20));

        _status = 500;
        await sampler.RefreshAsync();
        Assert.Equal(20, SampledOutOf(sampler, "GET /", 20));

        _status = 200;
        _strategy = "{not json";
        await sampler.RefreshAsync();
        _strategy = """{"strategyType":"PROBABILISTIC"}""";
        await sampler.RefreshAsync();
        Assert.Equal(20, SampledOutOf(sampler, "GET /", 20));
    }

    [Fact]
    public async Task Keeps_the_initial_rate_and_never_throws_when_nothing_listens()
    {
        var options = new JaegerRemoteSamplerOptions { Endpoint = BusinessContextTests.ClosedPortUri(), InitialSamplingRate = 1, PollingInterval = TimeSpan.FromHours(1) };
        using var sampler = new JaegerRemoteSampler("orders", options);
        await WaitForPollsAsync(sampler, 1);
        await sampler.RefreshAsync();

        Assert.Equal(30, SampledOutOf(sampler, "GET /", 30));
    }

    [Fact]
    public void Sampler_argument_follows_the_OpenTelemetry_jaeger_remote_format()
    {
        var options = JaegerRemoteSamplerOptions.FromSamplerArgument("endpoint=http://ariadne:5778, pollingIntervalMs=5000,initialSamplingRate=0.25,unknown=1");

        Assert.Equal(new Uri("http://ariadne:5778"), options.Endpoint);
        Assert.Equal(TimeSpan.FromSeconds(5), options.PollingInterval);
        Assert.Equal(0.25, options.InitialSamplingRate);
        var error = Assert.Throws<FormatException>(() => JaegerRemoteSamplerOptions.FromSamplerArgument("pollingIntervalMs=soon"));
        Assert.Contains("pollingIntervalMs", error.Message);
    }

    [Fact]
    public void Rate_limiter_refills_with_time()
    {
        var time = new ManualTime();
        var limiter = new RateLimiter(creditsPerSecond: 2, maxBalance: 2, time);

        Assert.True(limiter.TrySpend());
        Assert.True(limiter.TrySpend());
        Assert.False(limiter.TrySpend());
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(limiter.TrySpend());
        Assert.False(limiter.TrySpend());
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(limiter.TrySpend());
        Assert.True(limiter.TrySpend());
        Assert.False(limiter.TrySpend());
    }

    internal static SamplingParameters Parameters(string name) =>
        new(default, ActivityTraceId.CreateRandom(), name, ActivityKind.Server);

    internal static int SampledOutOf(Sampler sampler, string name, int count) =>
        Enumerable.Range(0, count).Count(_ => sampler.ShouldSample(Parameters(name)).Decision == SamplingDecision.RecordAndSample);

    internal static async Task WaitForPollsAsync(JaegerRemoteSampler sampler, int polls)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (sampler.Polls < polls)
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    private static JaegerRemoteSamplerOptions Options(WebApplication endpoint, double initialRate) => new()
    {
        Endpoint = new Uri(endpoint.Urls.First()),
        InitialSamplingRate = initialRate,
        PollingInterval = TimeSpan.FromHours(1),
    };

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
