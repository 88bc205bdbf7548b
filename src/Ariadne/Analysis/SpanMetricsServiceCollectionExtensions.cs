using Ariadne.Pipeline;

namespace Ariadne.Analysis;

public static class SpanMetricsServiceCollectionExtensions
{
    /// <summary>RED per operation computed from every span before sampling (<see cref="SpanMetricsAggregator"/>).</summary>
    public static IServiceCollection AddSpanMetrics(this IServiceCollection services)
    {
        services.AddSingleton<SpanMetricsAggregator>();
        services.AddSingleton<IIngestAggregator>(sp => sp.GetRequiredService<SpanMetricsAggregator>());
        return services;
    }
}
