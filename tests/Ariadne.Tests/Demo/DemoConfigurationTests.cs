using Ariadne.Alerts;
using Ariadne.Configuration;
using Ariadne.Demo;
using Ariadne.Model;
using Ariadne.Sampling;
using Ariadne.Sampling.Tail;

namespace Ariadne.Tests.Demo;

public sealed class DemoConfigurationTests
{
    [Fact]
    public void The_demo_settings_load_and_validate_as_a_config_file_would()
    {
        var options = ConfigurationLoader.Load(null, DemoConfiguration.Server("/tmp/demo-data"));

        Assert.Equal(("embedded", "/tmp/demo-data"), (options.Storage, options.DataDirectory));
        Assert.Equal(SamplingOptions.AdaptiveMode, options.Sampling.Mode);
        Assert.Equal(1, options.Sampling.Adaptive.InitialSamplingProbability);
        Assert.Equal(["slow", "sample", "outside-the-shop"], options.Sampling.Tail.Policies.Select(p => p.Name));
        Assert.Equal(DemoConfiguration.SampledPercent, options.Sampling.Tail.Policies[1].Probabilistic!.Sampling_Percentage);
        Assert.Equal(
            [("GatewayErrors", AlertSignal.ErrorRate), ("InventorySlow", AlertSignal.Latency), ("CatalogSearchSlow", AlertSignal.Latency)],
            options.Alerts.Rules.Select(r => (r.Name, r.Signal)));
        Assert.Equal("GET /products", options.Alerts.Rules[2].Operation);
    }

    [Theory]
    [InlineData("checkout-api", true)]
    [InlineData("gateway-v2", true)]
    [InlineData("gateway", false)]
    [InlineData("notifications", false)]
    public void Tail_sampling_keeps_every_trace_of_a_service_outside_the_shop(string service, bool kept)
    {
        var options = ConfigurationLoader.Load(null, DemoConfiguration.Server("/tmp/demo-data"));
        var errors = new List<string>();
        var policy = TailPolicyFactory.Build(options.Sampling.Tail.Policies, "Sampling:Tail:Policies", TimeProvider.System, errors).Single(p => p.Name == "outside-the-shop");
        Assert.Empty(errors);
        var span = new Span
        {
            TraceId = new TraceId(1, 2), SpanId = new SpanId(3), Name = "GET /", Kind = SpanKind.Server, StartTimeUnixNano = 1, EndTimeUnixNano = 2,
            Resource = new Resource { ServiceName = service, Attributes = [KeyValue.String("service.name", service)] },
        };
        Assert.Equal(kept ? PolicyDecision.Sampled : PolicyDecision.NotSampled, policy.Evaluate(new TraceView("default", span.TraceId, [span])));
    }

    [Fact]
    public void The_shop_fetches_its_sampling_strategy_from_the_server()
    {
        var environment = DemoConfiguration.Shop(new Uri("http://127.0.0.1:5778/"));
        Assert.Equal("parentbased_jaeger_remote", environment["OTEL_TRACES_SAMPLER"]);
        Assert.StartsWith("endpoint=http://127.0.0.1:5778,", environment["OTEL_TRACES_SAMPLER_ARG"], StringComparison.Ordinal);
    }
}
