using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using Prometheus;

namespace Ariadne.Operations;

/// <summary>
/// Storage size on /metrics, read from the store when Prometheus scrapes (not on every write): stored spans, traces
/// and bytes on disk for any engine, plus blocks and WAL bytes for the embedded one.
/// </summary>
public static class StorageMetrics
{
    public static void Register(CollectorRegistry registry, ISpanStore store)
    {
        var factory = ServerMetrics.Factory(registry);
        var spans = factory.CreateGauge("ariadne_storage_spans", "Spans stored (all tenants), in memory and on disk.");
        var traces = factory.CreateGauge("ariadne_storage_traces", "Traces stored (all tenants); a trace split over several blocks counts once per block.");
        var bytes = factory.CreateGauge("ariadne_storage_bytes", "Bytes the stored spans take on disk (blocks and WAL).");
        var embedded = store as EmbeddedSpanStore;
        var blocks = embedded is null ? null : factory.CreateGauge("ariadne_storage_blocks", "Blocks of the embedded engine (all tenants).");
        var wal = embedded is null ? null : factory.CreateGauge("ariadne_storage_wal_bytes", "Bytes of the embedded engine's write-ahead log segments.");
        registry.AddBeforeCollectCallback(() =>
        {
            var stats = store.GetStats();
            spans.Set(stats.Spans);
            traces.Set(stats.Traces);
            bytes.Set(stats.Bytes);
            if (embedded is not null)
            {
                blocks!.Set(embedded.BlockCount);
                wal!.Set(embedded.WalBytes);
            }
        });
    }
}
