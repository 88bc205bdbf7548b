using Ariadne.Pipeline;

namespace Ariadne.Analysis;

public static class SpanMetricsServiceCollectionExtensions
{
    /// <summary>
    /// RED per operation (<see cref="SpanMetricsAggregator"/>) and service-graph edges (<see cref="ServiceGraphAggregator"/>),
    /// computed from every span before sampling.
    /// </summary>
    public static IServiceCollection AddSpanMetrics(this IServiceCollection services)
    {
        services.AddSingleton<SpanMetricsAggregator>();
        services.AddSingleton<IIngestAggregator>(sp => sp.GetRequiredService<SpanMetricsAggregator>());
        services.AddSingleton(sp => new ServiceGraphAggregator(sp.GetRequiredService<Prometheus.CollectorRegistry>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IIngestAggregator>(sp => sp.GetRequiredService<ServiceGraphAggregator>());
        return services;
    }
}
