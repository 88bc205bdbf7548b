using Ariadne.Limits;
using Ariadne.Operations;
using Ariadne.Storage;

namespace Ariadne.Pipeline;

/// <summary>
/// The one service every receiver hands its decoded batch to (OTLP gRPC, OTLP HTTP, Zipkin), so validation,
/// counting and storage behave the same whatever the protocol. The request was admitted before its body was
/// decoded (bearer token, tenant, limits: Access.AccessMiddleware); its spans are charged to the tenant's rate here.
/// </summary>
public sealed class IngestPipeline(ISpanStore store, IngestMetrics metrics, TenantRateLimiter rates)
{
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
            await store.AppendAsync(tenant, spans, cancellationToken);
        }

        metrics.RecordIngest(protocol, tenant, spans.Count, batch.RejectedSpans);
        return new IngestResult(spans.Count, batch.RejectedSpans, batch.RejectionMessage);
    }
}
