using System.Globalization;
using Ariadne.Pipeline;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Storage.Embedded;

public sealed class StorageMetricsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Metrics_report_stored_spans_bytes_blocks_and_the_ingest_log_size_of_the_embedded_engine()
    {
        var store = Assert.IsType<EmbeddedSpanStore>(fixture.Server.App.Services.GetRequiredService<ISpanStore>());
        var trace = TestSpans.Trace(DateTimeOffset.UtcNow);
        var batch = new SpanBatch();
        batch.Spans.AddRange(trace);
        await fixture.Server.App.Services.GetRequiredService<IngestPipeline>().IngestAsync("metrics", "test", batch, default);
        var inWal = await ReadAsync();
        Assert.True(inWal["ariadne_ingest_log_bytes"] > 0);
        Assert.True(inWal["ariadne_storage_spans"] >= trace.Count);

        await store.CutHeadAsync();
        var inBlocks = await ReadAsync();
        Assert.True(inBlocks["ariadne_storage_blocks"] >= 1);
        Assert.Equal(store.GetStats().Bytes, inBlocks["ariadne_storage_bytes"]);
        Assert.True(inBlocks["ariadne_storage_spans"] >= trace.Count);
        Assert.True(inBlocks["ariadne_storage_traces"] >= 1);
    }

    private async Task<Dictionary<string, double>> ReadAsync()
    {
        var text = await fixture.Query.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(line => line.StartsWith("ariadne_storage_", StringComparison.Ordinal) || line.StartsWith("ariadne_ingest_log_bytes ", StringComparison.Ordinal))
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => double.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
