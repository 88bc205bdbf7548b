using Ariadne.Model;

namespace Ariadne.Pipeline;

/// <summary>
/// Sees every accepted span before tail sampling drops any, so what it aggregates (RED metrics, adaptive-sampling
/// throughput, later service-graph edges) is exact while storage keeps a sample. Called on the ingest path once per
/// batch: it must be cheap and must not keep the list (receivers may reuse it).
/// </summary>
public interface IIngestAggregator
{
    void Observe(string tenant, IReadOnlyList<Span> spans);
}
