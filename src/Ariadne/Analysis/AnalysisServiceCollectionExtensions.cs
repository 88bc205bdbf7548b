using Ariadne.Pipeline;

namespace Ariadne.Analysis;

public static class AnalysisServiceCollectionExtensions
{
    /// <summary>Aggregates computed from every span before sampling (RED per operation).</summary>
    public static IServiceCollection AddAriadneAnalysis(this IServiceCollection services)
    {
        services.AddSingleton<SpanMetricsAggregator>();
        services.AddSingleton<IIngestAggregator>(sp => sp.GetRequiredService<SpanMetricsAggregator>());
        return services;
    }
}
