using Ariadne.Limits;
using Ariadne.Operations;
using Ariadne.Sampling.Tail;

namespace Ariadne.Pipeline;

/// <summary>
/// The one service every receiver hands its decoded batch to (OTLP gRPC, OTLP HTTP, Zipkin), so validation,
/// counting and storage behave the same whatever the protocol. The request was admitted before its body was
/// decoded (bearer token, tenant, limits: Access.AccessMiddleware); its spans are charged to the tenant's rate
/// here. Aggregators see every valid span; then the tail sampler stores the batch or holds it for a decision
/// (the reply never waits for one).
/// </summary>
public sealed class IngestPipeline(IngestMetrics metrics, IEnumerable<IIngestAggregator> aggregators, TailSampler tailSampler, TenantRateLimiter rates)
{
    private readonly IIngestAggregator[] _aggregators = aggregators.ToArray();

    public async ValueTask<IngestResult> IngestAsync(string tenant, string protocol, SpanBatch batch, CancellationToken cancellationToken)
    {
        var spans = batch.Spans;
        rates.Take(tenant, spans.Count);
        var write = 0;
        for (var read = 0; read < spans.Count; read++)
        {
            var span = spans[read];
            if (span.TraceId.IsEmpty || span.SpanId.IsEmpty)
            {
                batch.Reject("trace_id and span_id must not be all zero");
                continue;
            }

            spans[write++] = span;
        }

        spans.RemoveRange(write, spans.Count - write);
        if (spans.Count > 0)
        {
            foreach (var aggregator in _aggregators)
            {
                aggregator.Observe(tenant, spans);
            }

            await tailSampler.SubmitAsync(tenant, spans, cancellationToken);
        }

        metrics.RecordIngest(protocol, tenant, spans.Count, batch.RejectedSpans);
        return new IngestResult(spans.Count, batch.RejectedSpans, batch.RejectionMessage);
    }
}
