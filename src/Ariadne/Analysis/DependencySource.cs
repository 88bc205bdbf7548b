using Ariadne.Sampling.Tail;
using Ariadne.Storage;

namespace Ariadne.Analysis;

/// <summary>
/// Where <c>/api/dependencies</c> and the service map read calls between services. While tail sampling keeps only a
/// sample, stored spans undercount calls and overstate error rates (every error trace is kept, a fraction of the
/// rest); a window inside the service graph's recent minutes, counted from every span before sampling, is then
/// answered from those. Other windows, and every window while storage keeps every span, come from storage.
/// </summary>
public sealed class DependencySource(ISpanStore store, ServiceGraphAggregator graph, TailSampler sampler, TimeProvider time)
{
    public ValueTask<IReadOnlyList<DependencyLink>> GetAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken)
    {
        var start = endTime - lookback;
        if (!sampler.Buffering || !MinuteRing.Covers(graph.CountingSince, time.GetUtcNow(), start))
        {
            return store.GetDependenciesAsync(tenant, endTime, lookback, cancellationToken);
        }

        return ValueTask.FromResult(graph.Dependencies(tenant, MinuteRing.MinuteBeginningAtOrAfter(start), MinuteRing.MinuteBeginningAtOrAfter(endTime)));
    }
}
