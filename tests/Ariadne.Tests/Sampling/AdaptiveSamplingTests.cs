using Ariadne.Model;
using Ariadne.Sampling;
using Ariadne.Sampling.Adaptive;
using Ariadne.Tests.Reliability;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Ariadne.Tests.Sampling;

public sealed class AdaptiveSamplingTests : IDisposable
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("ariadne-test-").FullName;

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);

    /// <summary>
    /// Ten operations whose real traffic ranges from 2 to 20,000 traces/s, each SDK sampling with the probability
    /// it last fetched and telling it in a different way (Jaeger sampler tags, W3C tracestate, or not at all). After
    /// enough calculation intervals every operation is sampled at the 1 trace/s target within Jaeger's tolerance.
    /// </summary>
    [Fact]
    public void Ten_operations_at_very_different_rates_converge_to_the_target_rate_within_the_tolerance()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var options = new SamplingOptions { Mode = SamplingOptions.AdaptiveMode };
        using var aggregator = new ThroughputAggregator(options, time);
        using var provider = new AdaptiveStrategyProvider(options, aggregator, _dataDirectory, "default", NullLogger<AdaptiveStrategyProvider>.Instance);
        double[] rates = [2, 5, 10, 30, 100, 300, 1_000, 3_000, 10_000, 20_000];
        var random = new Random(7);
        var resource = new Resource { ServiceName = "shop" };
        var intervalSeconds = options.Adaptive.CalculationInterval.TotalSeconds;

        for (var interval = 0; interval < 40; interval++)
        {
            var spans = new List<Span>();
            for (var op = 0; op < rates.Length; op++)
            {
                var name = $"op-{op}";
                var probability = provider.GetStrategy("default", "shop").ProbabilityFor(name)!.Value;
                // What the SDK's probabilistic sampler lets through in one interval (expectation plus rounding noise).
                var expected = rates[op] * intervalSeconds * probability;
                var sampled = (int)expected + (random.NextDouble() < expected - Math.Floor(expected) ? 1 : 0);
                for (var i = 0; i < sampled; i++)
                {
                    spans.Add(RootSpan(resource, name, op % 3, probability));
                }
            }

            aggregator.Observe("default", spans);
            time.Advance(options.Adaptive.CalculationInterval);
        }

        var target = options.Adaptive.TargetSamplesPerSecond;
        for (var op = 0; op < rates.Length; op++)
        {
            var probability = provider.GetStrategy("default", "shop").ProbabilityFor($"op-{op}")!.Value;
            var sampledPerSecond = rates[op] * probability;
            Assert.True(
                Math.Abs(sampledPerSecond - target) / target <= options.Adaptive.DeltaTolerance,
                $"op-{op} at {rates[op]}/s has probability {probability}: {sampledPerSecond:F3} sampled traces/s");
        }

        var states = provider.States.ToDictionary(s => s.Operation);
        Assert.InRange(states["op-9"].EstimatedTracesPerSecond, 20_000 * 0.7, 20_000 * 1.3);
    }

    [Fact]
    public void Probabilities_survive_a_restart_and_business_critical_operations_keep_their_floor()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var options = new SamplingOptions { Mode = SamplingOptions.AdaptiveMode };
        options.BusinessCritical.Add(new BusinessCriticalOperation { Service = "shop", Operation = "POST /checkout", MinProbability = 0.2 });
        var resource = new Resource { ServiceName = "shop" };
        double browse;
        using (var aggregator = new ThroughputAggregator(options, time))
        using (var provider = new AdaptiveStrategyProvider(options, aggregator, _dataDirectory, "default", NullLogger<AdaptiveStrategyProvider>.Instance))
        {
            // 6,000 root spans a minute at p=0.001 for each: 100,000 traces/s, far above the target.
            aggregator.Observe("default", Enumerable.Range(0, 6_000).Select(_ => RootSpan(resource, "GET /browse", 0, 0.001)).ToList());
            aggregator.Observe("default", Enumerable.Range(0, 6_000).Select(_ => RootSpan(resource, "POST /checkout", 0, 0.001)).ToList());
            time.Advance(options.Adaptive.CalculationInterval);
            browse = provider.GetStrategy("default", "shop").ProbabilityFor("GET /browse")!.Value;
            Assert.Equal(options.Adaptive.MinSamplingProbability, browse);
            Assert.Equal(0.2, provider.GetStrategy("default", "shop").ProbabilityFor("POST /checkout"));
        }

        Assert.True(File.Exists(Path.Combine(_dataDirectory, "sampling", "adaptive-state.json")));
        using var restartedAggregator = new ThroughputAggregator(options, time);
        using var restarted = new AdaptiveStrategyProvider(options, restartedAggregator, _dataDirectory, "default", NullLogger<AdaptiveStrategyProvider>.Instance);
        Assert.Equal(browse, restarted.GetStrategy("default", "shop").ProbabilityFor("GET /browse"));
        Assert.Equal(0.2, restarted.GetStrategy("default", "shop").ProbabilityFor("POST /checkout"));
        // An unknown service gets Jaeger's adaptive default: the initial probability and the lower bound.
        var unknown = restarted.GetStrategy("default", "new-service");
        Assert.Equal(0.001, unknown.OperationSampling!.DefaultSamplingProbability);
        Assert.Equal(1.0 / 60, unknown.OperationSampling.DefaultLowerBoundTracesPerSecond);
    }

    /// <summary>
    /// Issue 13: tenant B flooding a service name that tenant C also runs must not move C's probability, and each
    /// tenant's strategy names only its own operations, across a restart too.
    /// </summary>
    [Fact]
    public void Each_tenant_has_its_own_probabilities_for_a_service_name_they_share()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var options = new SamplingOptions { Mode = SamplingOptions.AdaptiveMode };
        var resource = new Resource { ServiceName = "shop" };
        using (var aggregator = new ThroughputAggregator(options, time))
        using (var provider = new AdaptiveStrategyProvider(options, aggregator, _dataDirectory, "default", NullLogger<AdaptiveStrategyProvider>.Instance))
        {
            for (var interval = 0; interval < 3; interval++)
            {
                aggregator.Observe("B", Enumerable.Range(0, 6_000).Select(_ => RootSpan(resource, "GET /flood", 0, 0.001)).ToList());
                aggregator.Observe("C", [RootSpan(resource, "GET /home", 0, 0.001)]);
                time.Advance(options.Adaptive.CalculationInterval);
            }

            AssertApart(provider);
            Assert.Equal(["B", "C"], provider.States.Select(s => s.Tenant).Order().ToArray());
        }

        using var restartedAggregator = new ThroughputAggregator(options, time);
        using var restarted = new AdaptiveStrategyProvider(options, restartedAggregator, _dataDirectory, "default", NullLogger<AdaptiveStrategyProvider>.Instance);
        AssertApart(restarted);

        void AssertApart(AdaptiveStrategyProvider provider)
        {
            var b = provider.GetStrategy("B", "shop").OperationSampling!.Operations;
            var c = provider.GetStrategy("C", "shop").OperationSampling!.Operations;
            Assert.Equal(options.Adaptive.MinSamplingProbability, Assert.Single(b, o => o.Operation == "GET /flood").SamplingRate);
            Assert.True(Assert.Single(c, o => o.Operation == "GET /home").SamplingRate > options.Adaptive.InitialSamplingProbability);
            Assert.DoesNotContain(c, o => o.Operation == "GET /flood");
            Assert.DoesNotContain(b, o => o.Operation == "GET /home");
            Assert.Empty(provider.GetStrategy("default", "shop").OperationSampling!.Operations);
        }
    }

    [Theory]
    [InlineData("ot=th:8", 0.5)]
    [InlineData("ot=th:c", 0.25)]
    [InlineData("ot=th:0", 1.0)]
    [InlineData("vendor=x,ot=rv:abcdef12345678;th:fd70a4", 0.01)]
    [InlineData("ot=p:3", 0.125)]
    public void The_w3c_tracestate_threshold_gives_the_sdk_probability(string traceState, double probability) =>
        Assert.Equal(probability, HeadSamplingProbability.FromTraceState(traceState)!.Value, 4);

    /// <summary>Root spans tell their probability three ways: Jaeger tags, OTel tracestate, or not at all.</summary>
    /// <summary>
    /// The state file is replaced through <see cref="Ariadne.Storage.IDurableFiles"/> (temp file, fsync, rename, fsync of
    /// the directory): a failure at any step of either of two saves, a torn write included, is only logged, the sampler
    /// keeps serving what it calculated, and a restart resumes from one of the two states, never from a broken file.
    /// </summary>
    [Fact]
    public void A_failed_step_of_a_state_save_is_harmless_and_a_restart_resumes_from_a_whole_state()
    {
        var options = new SamplingOptions { Mode = SamplingOptions.AdaptiveMode };
        var counting = new FaultyFiles();
        var learned = LearnTwice(options, counting, Path.Combine(_dataDirectory, "count"));
        Assert.True(counting.Count(FileStep.Rename) == 2 && counting.Count(FileStep.Fsync) == 4, string.Join(", ", counting.Steps));

        var plans = Enum.GetValues<FileStep>()
            .SelectMany(step => Enumerable.Range(1, counting.Count(step)).SelectMany(n => counting.Names(step)[n - 1] == "write"
                ? new[] { new FaultPlan(step, n, FileFault.Eio), new FaultPlan(step, n, FileFault.TornWrite) }
                : [new FaultPlan(step, n, FileFault.Eio)]));
        foreach (var plan in plans)
        {
            var directory = Path.Combine(_dataDirectory, $"{plan.Step}-{plan.Nth}-{plan.Fault}");
            var files = new FaultyFiles(plan);

            Assert.Equal(learned, LearnTwice(options, files, directory));
            Assert.True(files.Injected is not null, $"{plan} was not reached");

            using var aggregator = new ThroughputAggregator(options, new FakeTimeProvider(DateTimeOffset.UnixEpoch));
            using var restarted = new AdaptiveStrategyProvider(options, aggregator, directory, "default", NullLogger<AdaptiveStrategyProvider>.Instance);
            var resumed = restarted.GetStrategy("default", "shop").ProbabilityFor("GET /browse");
            Assert.True(resumed == learned.First || resumed == learned.Second, $"{files.Injected}: the restart serves {resumed}, not {learned}");
        }
    }

    /// <summary>Two calculation intervals of one operation (a flood, then a trickle); the probability served after each.</summary>
    /// <summary>
    /// Cluster mode: three nodes each count the root spans of the traces they own (a third, by trace id), and each
    /// operation's SDKs fetch their strategy from different nodes. Each node scales what it counted by the live member
    /// count, so together the SDKs let through the target, not three times it.
    /// </summary>
    [Fact]
    public void Three_cluster_nodes_that_each_see_a_third_of_the_traces_meet_the_target_cluster_wide()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var options = new SamplingOptions { Mode = SamplingOptions.AdaptiveMode };
        var aggregators = Enumerable.Range(0, 3).Select(_ => new ThroughputAggregator(options, time)).ToArray();
        var providers = aggregators.Select((aggregator, node) => new AdaptiveStrategyProvider(
            options, aggregator, Path.Combine(_dataDirectory, $"node{node}"), "default", NullLogger<AdaptiveStrategyProvider>.Instance, clusterMembers: () => 3)).ToArray();
        try
        {
            double[] rates = [100, 1_000, 10_000];
            var random = new Random(7);
            var resource = new Resource { ServiceName = "shop" };
            var intervalSeconds = options.Adaptive.CalculationInterval.TotalSeconds;
            for (var interval = 0; interval < 40; interval++)
            {
                var owned = aggregators.Select(_ => new List<Span>()).ToArray();
                for (var op = 0; op < rates.Length; op++)
                {
                    // A third of the operation's instances asks each node; every trace goes to its owner.
                    for (var asked = 0; asked < providers.Length; asked++)
                    {
                        var probability = providers[asked].GetStrategy("default", "shop").ProbabilityFor($"op-{op}")!.Value;
                        var expected = rates[op] / providers.Length * intervalSeconds * probability;
                        var sampled = (int)expected + (random.NextDouble() < expected - Math.Floor(expected) ? 1 : 0);
                        for (var i = 0; i < sampled; i++)
                        {
                            owned[random.Next(owned.Length)].Add(RootSpan(resource, $"op-{op}", 0, probability));
                        }
                    }
                }

                for (var node = 0; node < aggregators.Length; node++)
                {
                    aggregators[node].Observe("default", owned[node]);
                }

                time.Advance(options.Adaptive.CalculationInterval);
            }

            var target = options.Adaptive.TargetSamplesPerSecond;
            for (var op = 0; op < rates.Length; op++)
            {
                var sampledPerSecond = providers.Sum(p => rates[op] / providers.Length * p.GetStrategy("default", "shop").ProbabilityFor($"op-{op}")!.Value);
                Assert.True(
                    Math.Abs(sampledPerSecond - target) / target <= options.Adaptive.DeltaTolerance,
                    $"op-{op} at {rates[op]}/s: the cluster lets through {sampledPerSecond:F3} traces/s for a target of {target}");
            }
        }
        finally
        {
            foreach (var provider in providers)
            {
                provider.Dispose();
            }

            foreach (var aggregator in aggregators)
            {
                aggregator.Dispose();
            }
        }
    }

    private static (double First, double Second) LearnTwice(SamplingOptions options, Ariadne.Storage.IDurableFiles files, string dataDirectory)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var resource = new Resource { ServiceName = "shop" };
        using var aggregator = new ThroughputAggregator(options, time);
        using var provider = new AdaptiveStrategyProvider(options, aggregator, dataDirectory, "default", NullLogger<AdaptiveStrategyProvider>.Instance, files);
        aggregator.Observe("default", Enumerable.Range(0, 6_000).Select(_ => RootSpan(resource, "GET /browse", 0, 0.001)).ToList());
        time.Advance(options.Adaptive.CalculationInterval);
        var first = provider.GetStrategy("default", "shop").ProbabilityFor("GET /browse")!.Value;
        aggregator.Observe("default", [RootSpan(resource, "GET /browse", 0, first)]);
        time.Advance(options.Adaptive.CalculationInterval);
        return (first, provider.GetStrategy("default", "shop").ProbabilityFor("GET /browse")!.Value);
    }

    private static Span RootSpan(Resource resource, string name, int style, double probability)
    {
        var span = new Span
        {
            TraceId = new TraceId(1, (ulong)Random.Shared.NextInt64(1, long.MaxValue)),
            SpanId = new SpanId((ulong)Random.Shared.NextInt64(1, long.MaxValue)),
            Name = name,
            Resource = resource,
        };
        switch (style)
        {
            case 0:
                span.Attributes = [KeyValue.String("sampler.type", "probabilistic"), KeyValue.Double("sampler.param", probability)];
                break;
            case 1:
                var threshold = (ulong)Math.Round((1 - probability) * 72057594037927936.0);
                span.TraceState = $"ot=th:{threshold:x14}";
                break;
        }

        return span;
    }
}
