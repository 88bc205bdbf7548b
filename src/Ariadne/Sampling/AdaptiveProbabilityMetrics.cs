using Ariadne.Operations;
using Ariadne.Sampling.Adaptive;
using Ariadne.Sampling.Remote;
using Prometheus;

namespace Ariadne.Sampling;

/// <summary>The probabilities adaptive sampling currently serves, as a gauge per tenant, service and operation.</summary>
public sealed class AdaptiveProbabilityMetrics
{
    public AdaptiveProbabilityMetrics(CollectorRegistry registry, ISamplingStrategyProvider provider)
    {
        if (provider is not AdaptiveStrategyProvider adaptive)
        {
            return;
        }

        var factory = ServerMetrics.Factory(registry);
        var probability = factory.CreateGauge("ariadne_adaptive_sampling_probability", "Head-sampling probability adaptive sampling serves per tenant, service and operation.", ["tenant", "service", "operation"]);
        var throughput = factory.CreateGauge("ariadne_adaptive_sampling_estimated_traces_per_second", "Traces per second per tenant and root operation, estimated from sampled root spans and the SDK's probability.", ["tenant", "service", "operation"]);
        registry.AddBeforeCollectCallback(() =>
        {
            foreach (var state in adaptive.States)
            {
                probability.WithLabels(state.Tenant, state.Service, state.Operation).Set(state.Probability);
                throughput.WithLabels(state.Tenant, state.Service, state.Operation).Set(state.EstimatedTracesPerSecond);
            }
        });
    }
}
