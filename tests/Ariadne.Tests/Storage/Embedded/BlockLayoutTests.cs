using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Embedded.Blocks;

namespace Ariadne.Tests.Storage.Embedded;

/// <summary>
/// Block format version 2 (docs/storage-format.md): rows in the order of their trace's first span, so row groups hold
/// slices of time; a trace-id filter per row group; compaction of blocks of any time range.
/// </summary>
public sealed class BlockLayoutTests
{
    private const string Tenant = "default";

    [Fact]
    public async Task Row_groups_hold_slices_of_time_whatever_order_the_spans_arrived_in_and_search_answers_the_newest()
    {
        await using var f = new EmbeddedStoreFixture();
        var random = new Random(3);
        var traces = Enumerable.Range(0, 200).Select(i => TestSpans.Trace(f.Now.AddHours(-10).AddMinutes(i * 3), operation: "op-" + (i % 3))).ToList();
        foreach (var trace in traces.OrderBy(_ => random.Next()))
        {
            await f.Store.AppendAsync(Tenant, trace, default);
        }

        await f.Store.CutHeadAsync();
        var block = Assert.Single(f.Store.ListBlocks());
        Assert.True(block.RowGroups.Count > 4);
        Assert.Equal(BlockMeta.CurrentFormatVersion, block.FormatVersion);
        for (var g = 1; g < block.RowGroups.Count; g++)
        {
            // A trace's first span sorts it; its later spans start within its 120 ms.
            Assert.True(block.RowGroups[g].MinStartUnixNano >= block.RowGroups[g - 1].MaxStartUnixNano - (long)TimeSpan.FromSeconds(1).TotalNanoseconds);
        }

        var found = await f.Store.FindTracesAsync(Tenant, new TraceQuery
        {
            ServiceName = "frontend", OperationName = "op-1", StartTimeMin = f.Now.AddHours(-11), StartTimeMax = f.Now, Limit = 5,
        }, default);
        var expected = traces.Where(t => t[0].Name == "op-1").OrderByDescending(t => t[0].StartTimeUnixNano).Take(5).Select(t => t[0].TraceId);
        Assert.Equal(expected, found.Select(t => t[0].TraceId));
        Assert.All(found, t => Assert.Equal(2, t.Count));
        foreach (var trace in traces)
        {
            Assert.Equal(2, (await f.Store.GetTraceAsync(Tenant, trace[0].TraceId, default)).Count);
        }
    }

    [Fact]
    public async Task Blocks_of_a_replay_over_ten_hours_compact_into_one_block_per_window_and_stay_that_way()
    {
        await using var f = new EmbeddedStoreFixture();
        var traces = Enumerable.Range(0, 120).Select(i => TestSpans.Trace(f.Now.AddHours(-10).AddMinutes(i * 5))).ToList();
        for (var cut = 0; cut < 3; cut++)
        {
            // Each cut holds every third trace: three blocks over the same ten hours, as a replay or a backfill gives.
            foreach (var trace in traces.Where((_, i) => i % 3 == cut))
            {
                await f.Store.AppendAsync(Tenant, trace, default);
            }

            await f.Store.CutHeadAsync();
        }

        Assert.Equal(3, f.Store.ListBlocks().Count);
        Assert.True(await f.Store.CompactAsync() >= 1);
        var blocks = f.Store.ListBlocks();
        Assert.Equal(10, blocks.Count);
        var hour = (long)TimeSpan.FromHours(1).TotalNanoseconds;
        Assert.All(blocks, b => Assert.Equal(b.MinStartUnixNano / hour, b.MaxStartUnixNano / hour));
        Assert.All(blocks, b => Assert.Equal(24, b.SpanCount));
        Assert.Equal(0, await f.Store.CompactAsync());

        await f.ReopenAsync();
        Assert.Equal(10, f.Store.ListBlocks().Count);
        foreach (var trace in traces)
        {
            Assert.Equal(2, (await f.Store.GetTraceAsync(Tenant, trace[0].TraceId, default)).Count);
        }

        var inOneHour = await f.Store.FindTracesAsync(Tenant, new TraceQuery
        {
            ServiceName = "backend", StartTimeMin = f.Now.AddHours(-9), StartTimeMax = f.Now.AddHours(-8), Limit = 100,
        }, default);
        Assert.Equal(12, inOneHour.Count);
    }

    [Fact]
    public void A_trace_added_twice_to_a_block_reads_back_whole_from_both_runs()
    {
        var directory = Directory.CreateTempSubdirectory("ariadne-block-").FullName;
        try
        {
            var start = DateTimeOffset.UtcNow.AddMinutes(-10);
            var split = TestSpans.Trace(start);
            var others = Enumerable.Range(0, 100).Select(i => TestSpans.Trace(start.AddSeconds(i))).ToList();
            string blockDirectory;
            using (var writer = new BlockWriter(directory, Tenant, new EmbeddedStorageOptions { RowGroupSpans = 64 }, TimeProvider.System, DurableFiles.System))
            {
                writer.AddTrace(split[0].TraceId, [split[0]]);
                foreach (var trace in others)
                {
                    writer.AddTrace(trace[0].TraceId, trace);
                }

                writer.AddTrace(split[0].TraceId, [split[1]]);
                writer.Complete();
                blockDirectory = writer.Directory;
            }

            var block = Block.Open(blockDirectory, verifyData: true);
            Assert.True(block.Meta.RowGroups.Count > 2);
            var spans = block.GetTrace(split[0].TraceId);
            Assert.Equal(split.Select(s => s.SpanId).ToHashSet(), spans.Select(s => s.SpanId).ToHashSet());
            Assert.Equal(split[0].SpanId, spans.Single(s => s.SpanId == split[1].SpanId).ParentSpanId);
            var several = block.GetTraces([split[0].TraceId, others[3][0].TraceId, others[99][0].TraceId, TestSpans.NewTraceId()]);
            Assert.Equal(6, several.Count);
            block.Release();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task An_older_data_directory_opens_and_is_marked_version_3_so_an_older_build_refuses_it(int version)
    {
        await using var f = new EmbeddedStoreFixture();
        await f.Store.DisposeAsync();
        await File.WriteAllTextAsync(Path.Combine(f.Directory, DataDirectoryFormat.FileName), $"ariadne-embedded {version}\n");
        await f.ReopenAsync();
        Assert.Equal("ariadne-embedded 3", (await File.ReadAllTextAsync(Path.Combine(f.Directory, DataDirectoryFormat.FileName))).Trim());
    }

    [Fact]
    public void The_bytes_of_a_block_are_told_by_file_and_by_column()
    {
        var directory = Directory.CreateTempSubdirectory("ariadne-bytes-").FullName;
        try
        {
            var block = SearchIndexData.WriteBlock(directory, SearchIndexData.Traces(seed: 9, count: 200), rowGroupSpans: 64);
            var (files, columns) = BlockBytes.Measure(directory);

            string[] expected = [BlockMeta.DataFileName, BlockMeta.BloomFileName, TagFilters.FileName, BlockMeta.TracesFileName, SearchIndex.FileName, BlockMeta.FileName];
            Assert.Equal(expected.Order(StringComparer.Ordinal), files.Select(f => f.File).Order(StringComparer.Ordinal));
            Assert.Equal(block.Meta.IndexBytes, files.Single(f => f.File == SearchIndex.FileName).Bytes);
            Assert.Equal(19, columns.Count);
            Assert.Contains(columns, c => c.Column == "attributes" && c.Bytes > 0);
            Assert.InRange(columns.Sum(c => c.Bytes), 1, block.Meta.DataBytes);
            Assert.Contains(BlockBytes.Lines(directory, block.Meta.SpanCount), line => line.StartsWith("file   index.bin", StringComparison.Ordinal));
            block.Release();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
