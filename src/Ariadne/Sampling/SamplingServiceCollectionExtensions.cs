using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Pipeline;
using Ariadne.Sampling.Adaptive;
using Ariadne.Sampling.Remote;
using Ariadne.Sampling.Tail;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace Ariadne.Sampling;

public static class SamplingServiceCollectionExtensions
{
    /// <summary>Remote strategies (static or adaptive), the adaptive throughput counter, and the tail sampler.</summary>
    public static IServiceCollection AddAriadneSampling(this IServiceCollection services, AriadneOptions options)
    {
        var sampling = options.Sampling;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sampling);
        services.AddSingleton<ThroughputAggregator>();
        services.AddSingleton<IIngestAggregator>(sp => sp.GetRequiredService<ThroughputAggregator>());
        if (sampling.Mode == SamplingOptions.AdaptiveMode)
        {
            services.AddSingleton(sp => new AdaptiveStrategyProvider(
                sampling,
                sp.GetRequiredService<ThroughputAggregator>(),
                options.DataDirectory,
                options.Tenancy.DefaultTenant,
                sp.GetRequiredService<ILogger<AdaptiveStrategyProvider>>(),
                clusterMembers: sp.GetService<Cluster.ClusterMembership>() is { } membership ? () => membership.LiveMembers : null));
            services.AddSingleton<ISamplingStrategyProvider>(sp => sp.GetRequiredService<AdaptiveStrategyProvider>());
        }
        else
        {
            services.AddSingleton<StaticStrategyProvider>();
            services.AddSingleton<ISamplingStrategyProvider>(sp => sp.GetRequiredService<StaticStrategyProvider>());
        }

        services.AddSingleton<TailSamplingMetrics>();
        services.AddSingleton<SamplingReporter>();
        services.AddSingleton(sp =>
        {
            var metrics = sp.GetRequiredService<TailSamplingMetrics>();
            var sampler = new TailSampler(sampling, metrics, sp.GetRequiredService<TimeProvider>());
            sp.GetRequiredService<CollectorRegistry>().AddBeforeCollectCallback(() => metrics.SetBuffered(sampler));
            return sampler;
        });
        services.AddSingleton<AdaptiveProbabilityMetrics>();
        return services;
    }

    /// <summary>
    /// Jaeger's remote sampling endpoint (<c>GET /sampling?service=</c> on the sampling listener, <c>GET /api/sampling</c>
    /// on the query listener) and Ariadne's sampling report (<c>GET /api/ariadne/sampling</c>).
    /// </summary>
    public static WebApplication MapSampling(this WebApplication app)
    {
        app.MapGet("/sampling", SamplingEndpoints.GetStrategy).RequireListener(Listener.Sampling);
        app.MapGet("/api/sampling", SamplingEndpoints.GetStrategy).RequireListener(Listener.Query);
        app.MapGet("/api/ariadne/sampling", SamplingEndpoints.GetReport).RequireListener(Listener.Query);

        // Resolved now so that adaptive probabilities reach /metrics from the first scrape.
        app.Services.GetRequiredService<AdaptiveProbabilityMetrics>();
        return app;
    }
}
