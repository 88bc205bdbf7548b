using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Sampling;
using Ariadne.Sampling.Adaptive;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Sampling;

public sealed class AdaptiveServerFixture : ServerFixture
{
    protected override void Configure(AriadneOptions options)
    {
        options.Sampling.Mode = SamplingOptions.AdaptiveMode;
        options.Sampling.BusinessCritical.Add(new BusinessCriticalOperation { Service = "shop", Operation = "POST /checkout", MinProbability = 0.5 });
    }
}

public sealed partial class JsRemoteSamplerTests(NpmRemoteSampler npm, StaticStrategiesServerFixture staticServer, AdaptiveServerFixture adaptiveServer)
    : IClassFixture<NpmRemoteSampler>, IClassFixture<StaticStrategiesServerFixture>, IClassFixture<AdaptiveServerFixture>
{
    [Fact]
    public async Task The_npm_jaeger_remote_sampler_applies_static_per_operation_probabilities()
    {
        var (sampler, recorded) = await npm.RunAsync(staticServer.Server.GetUri(Listener.Sampling), "orders", "TraceIdRatioBased", "POST /checkout", "GET /orders");
        Assert.Contains("PerOperationSampler{default=TraceIdRatioBased{0.25}", sampler, StringComparison.Ordinal);
        Assert.Contains("POST /checkout=TraceIdRatioBased{1}", sampler, StringComparison.Ordinal);
        Assert.Equal(2000, recorded["POST /checkout"]);
        Assert.InRange(recorded["GET /orders"], 350, 650);
    }

    [Fact]
    public async Task The_npm_jaeger_remote_sampler_follows_adaptive_probabilities_and_business_critical_floors()
    {
        // Traffic the SDK reported at 1%: the adaptive calculation lowers the probability of GET /browse.
        var pipeline = adaptiveServer.Server.Services.GetRequiredService<IngestPipeline>();
        var data = new SamplingTestData();
        var batch = new SpanBatch();
        for (var i = 0; i < 500; i++)
        {
            batch.Spans.Add(data.Root("shop", "GET /browse", attributes: [KeyValue.String("sampler.type", "probabilistic"), KeyValue.Double("sampler.param", 0.01)]));
        }

        await pipeline.IngestAsync("default", "test", batch, CancellationToken.None);
        adaptiveServer.Server.Services.GetRequiredService<ThroughputAggregator>().CloseInterval();
        var served = await adaptiveServer.Query.GetStringAsync("/api/sampling?service=shop");
        var browse = JsonDocument.Parse(served).RootElement.GetProperty("operationSampling").GetProperty("perOperationStrategies")
            .EnumerateArray().Single(o => o.GetProperty("operation").GetString() == "GET /browse")
            .GetProperty("probabilisticSampling").GetProperty("samplingRate").GetDouble();
        Assert.InRange(browse, 1e-5, 0.001);

        var (sampler, recorded) = await npm.RunAsync(adaptiveServer.Server.GetUri(Listener.Sampling), "shop", "PerOperationSampler", "POST /checkout", "GET /browse", "GET /other");
        Assert.Contains("POST /checkout=TraceIdRatioBased{0.5}", sampler, StringComparison.Ordinal);
        var jsBrowse = double.Parse(BrowseRatio().Match(sampler).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(browse, jsBrowse, 1e-12);
        Assert.InRange(recorded["POST /checkout"], 800, 1200);
        Assert.InRange(recorded["GET /other"], 0, 20);
    }

    [GeneratedRegex(@"GET /browse=TraceIdRatioBased\{([^}]+)\}")]
    private static partial Regex BrowseRatio();
}
