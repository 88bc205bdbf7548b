using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Instrumentation.Sampling;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Instrumentation;

/// <summary>An Ariadne server serving static strategies from a file, as an operator would configure it.</summary>
public sealed class SdkStrategiesServerFixture : ServerFixture
{
    protected override void Configure(AriadneOptions options)
    {
        // Not in the data directory: the storage engine wants that one to itself.
        var file = Path.Combine(Directory.CreateTempSubdirectory("ariadne-strategies-").FullName, "strategies.json");
        File.WriteAllText(file, """
            {
              "default_strategy": { "type": "probabilistic", "param": 0 },
              "service_strategies": [
                { "service": "orders", "type": "probabilistic", "param": 0.25,
                  "operation_strategies": [ { "operation": "POST /checkout", "type": "probabilistic", "param": 1 } ] } ]
            }
            """);
        options.Sampling.StrategiesFile = file;
    }
}

/// <summary>The SDK's remote sampler against the real Ariadne sampling endpoint (port 5778).</summary>
public sealed class JaegerRemoteSamplerAgainstAriadneTests(SdkStrategiesServerFixture ariadne) : IClassFixture<SdkStrategiesServerFixture>
{
    [Fact]
    public async Task Follows_the_per_operation_strategy_Ariadne_serves_for_the_service()
    {
        var options = new JaegerRemoteSamplerOptions
        {
            Endpoint = ariadne.Server.GetUri(Listener.Sampling),
            InitialSamplingRate = 0,
            PollingInterval = TimeSpan.FromHours(1),
        };
        using var sampler = new JaegerRemoteSampler("orders", options);
        await JaegerRemoteSamplerTests.WaitForPollsAsync(sampler, 1);

        Assert.StartsWith("per-operation", sampler.CurrentStrategy, StringComparison.Ordinal);
        Assert.Equal(500, JaegerRemoteSamplerTests.SampledOutOf(sampler, "POST /checkout", 500));

        // 0.25 of 2,000 random trace ids: 500 expected, the range is over 8 standard deviations wide.
        Assert.InRange(JaegerRemoteSamplerTests.SampledOutOf(sampler, "GET /orders", 2000), 350, 650);
    }

    [Fact]
    public async Task A_service_without_its_own_strategy_gets_the_default()
    {
        var options = new JaegerRemoteSamplerOptions { Endpoint = ariadne.Server.GetUri(Listener.Sampling), InitialSamplingRate = 1, PollingInterval = TimeSpan.FromHours(1) };
        using var sampler = new JaegerRemoteSampler("catalog", options);
        await JaegerRemoteSamplerTests.WaitForPollsAsync(sampler, 1);

        Assert.Equal(0, JaegerRemoteSamplerTests.SampledOutOf(sampler, "GET /products", 500));
    }
}
