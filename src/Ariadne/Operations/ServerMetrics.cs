using Prometheus;

namespace Ariadne.Operations;

/// <summary>
/// The factory every metric of the server's registry is created with. Ariadne does not trace itself, so no metric
/// takes an exemplar from the ambient <see cref="System.Diagnostics.Activity"/>: on ingest that is the exporting
/// client's own request, a trace nobody stored, and looking it up on every increment costs. Exemplars are set
/// explicitly where a span's trace id fits (the span-metrics histograms).
/// </summary>
public static class ServerMetrics
{
    private static readonly ExemplarBehavior s_explicitExemplarsOnly = new() { DefaultExemplarProvider = static (_, _) => Exemplar.None };

    public static IMetricFactory Factory(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        factory.ExemplarBehavior = s_explicitExemplarsOnly;
        return factory;
    }
}
