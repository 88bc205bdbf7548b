using Ariadne.Pipeline;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using Prometheus;

namespace Ariadne.Operations;

/// <summary>
/// Storage size on /metrics, read from the store when Prometheus scrapes (not on every write): stored spans, traces
/// and bytes on disk for any engine, blocks for the embedded one, and the ingest log's bytes.
/// </summary>
public static class StorageMetrics
{
    public static void Register(CollectorRegistry registry, ISpanStore store, IngestPipeline pipeline)
    {
        var factory = ServerMetrics.Factory(registry);
        var spans = factory.CreateGauge("ariadne_storage_spans", "Spans stored (all tenants), in memory and on disk.");
        var traces = factory.CreateGauge("ariadne_storage_traces", "Traces stored (all tenants); a trace split over several blocks counts once per block.");
        var bytes = factory.CreateGauge("ariadne_storage_bytes", "Bytes the stored spans take on disk (blocks; the ingest log is ariadne_ingest_log_bytes).");
        var embedded = store as EmbeddedSpanStore;
        var blocks = embedded is null ? null : factory.CreateGauge("ariadne_storage_blocks", "Blocks of the embedded engine (all tenants).");
        var log = factory.CreateGauge("ariadne_ingest_log_bytes", "Bytes of the ingest log's segments: spans acknowledged but not yet durable in storage, or held for a tail-sampling decision.");
        registry.AddBeforeCollectCallback(() =>
        {
            var stats = store.GetStats();
            spans.Set(stats.Spans);
            traces.Set(stats.Traces);
            bytes.Set(stats.Bytes);
            log.Set(pipeline.LogBytes);
            if (embedded is not null)
            {
                blocks!.Set(embedded.BlockCount);
            }
        });
    }
}
