using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;

namespace Ariadne.Tests.Storage.Embedded;

public sealed class EmbeddedStoreTests
{
    private const string Tenant = "default";

    [Fact]
    public async Task A_trace_reads_back_field_for_field_from_the_head_from_a_block_and_after_reopening()
    {
        await using var f = new EmbeddedStoreFixture();
        var trace = TestSpans.Trace(f.Now.AddMinutes(-5));
        await f.Store.AppendAsync(Tenant, trace, default);
        var expected = trace.Select(TestSpans.Describe).Order().ToList();

        Assert.Equal(expected, (await f.Store.GetTraceAsync(Tenant, trace[0].TraceId, default)).Select(TestSpans.Describe).Order());

        await f.Store.CutHeadAsync();
        Assert.Single(f.BlockDirectories());
        Assert.Equal(expected, (await f.Store.GetTraceAsync(Tenant, trace[0].TraceId, default)).Select(TestSpans.Describe).Order());

        await f.ReopenAsync();
        Assert.Equal(expected, (await f.Store.GetTraceAsync(Tenant, trace[0].TraceId, default)).Select(TestSpans.Describe).Order());
        Assert.Empty(await f.Store.GetTraceAsync(Tenant, TestSpans.NewTraceId(), default));
        Assert.Empty(await f.Store.GetTraceAsync("other", trace[0].TraceId, default));
    }

    [Fact]
    public async Task Search_filters_by_service_operation_tags_duration_and_time_across_head_and_blocks()
    {
        await using var f = new EmbeddedStoreFixture();
        var slow = TestSpans.Trace(f.Now.AddMinutes(-30), operation: "checkout", duration: TimeSpan.FromSeconds(2));
        var fast = TestSpans.Trace(f.Now.AddMinutes(-20), operation: "checkout", duration: TimeSpan.FromMilliseconds(5));
        await f.Store.AppendAsync(Tenant, slow, default);
        await f.Store.CutHeadAsync();
        await f.Store.AppendAsync(Tenant, fast, default);
        for (var i = 0; i < 50; i++)
        {
            await f.Store.AppendAsync(Tenant, TestSpans.Trace(f.Now.AddMinutes(-10).AddSeconds(i), service: "other", operation: "op" + i), default);
        }

        await f.Store.CutHeadAsync();
        await f.Store.AppendAsync(Tenant, TestSpans.Trace(f.Now.AddMinutes(-1), service: "frontend", operation: "browse"), default);

        async Task<List<TraceId>> Find(TraceQuery query) =>
            (await f.Store.FindTracesAsync(Tenant, query, default)).Select(t => t[0].TraceId).ToList();

        Assert.Equal([fast[0].TraceId, slow[0].TraceId], await Find(new TraceQuery { ServiceName = "frontend", OperationName = "checkout" }));
        Assert.Equal([slow[0].TraceId], await Find(new TraceQuery { ServiceName = "frontend", MinDuration = TimeSpan.FromSeconds(1) }));
        Assert.Equal([slow[0].TraceId], await Find(new TraceQuery
        {
            ServiceName = "frontend",
            OperationName = "checkout",
            StartTimeMax = f.Now.AddMinutes(-25),
        }));
        var byTag = await Find(new TraceQuery { ServiceName = "backend", Tags = new Dictionary<string, string> { ["error"] = "true", ["db.system"] = "postgresql" }, Limit = 100 });
        Assert.Equal(53, byTag.Count);
        Assert.Equal(3, (await Find(new TraceQuery { Tags = new Dictionary<string, string> { ["http.status_code"] = "200", ["host.name"] = "node-1" }, Limit = 3 })).Count);
        Assert.Empty(await Find(new TraceQuery { ServiceName = "frontend", Tags = new Dictionary<string, string> { ["http.method"] = "POST" } }));
        Assert.Equal(52, (await Find(new TraceQuery { Tags = new Dictionary<string, string> { ["cache.key"] = "user:1" }, StartTimeMin = f.Now.AddMinutes(-25), Limit = 1000 })).Count);

        Assert.Equal(["backend", "frontend", "other"], await f.Store.GetServicesAsync(Tenant, default));
        Assert.Equal(
            [new OperationInfo("browse", SpanKind.Server), new OperationInfo("checkout", SpanKind.Server)],
            await f.Store.GetOperationsAsync(Tenant, "frontend", null, default));
        Assert.Equal([new OperationInfo("query", SpanKind.Client)], await f.Store.GetOperationsAsync(Tenant, "backend", SpanKind.Client, default));
        var links = await f.Store.GetDependenciesAsync(Tenant, f.Now, TimeSpan.FromHours(1), default);
        Assert.Equal([new DependencyLink("frontend", "backend", 3, 3), new DependencyLink("other", "backend", 50, 50)], links);
    }

    [Fact]
    public async Task Compaction_merges_blocks_brings_a_split_trace_together_and_drops_duplicates()
    {
        await using var f = new EmbeddedStoreFixture();
        var trace = TestSpans.Trace(f.Now.AddMinutes(-3));
        await f.Store.AppendAsync(Tenant, [trace[0]], default);
        for (var i = 0; i < 20; i++)
        {
            await f.Store.AppendAsync(Tenant, TestSpans.Trace(f.Now.AddMinutes(-2)), default);
        }

        await f.Store.CutHeadAsync();
        await f.Store.AppendAsync(Tenant, trace, default); // the root again (a client retry) and the child
        await f.Store.CutHeadAsync();
        Assert.Equal(2, f.BlockDirectories().Length);
        Assert.Equal(43, f.Store.GetStats().Spans);

        Assert.Equal(1, await f.Store.CompactAsync());

        var block = Assert.Single(f.Store.ListBlocks());
        Assert.Equal(42, block.SpanCount);
        Assert.Equal(21, block.TraceCount);
        Assert.Equal(1, block.CompactionLevel);
        Assert.Single(f.BlockDirectories());
        Assert.Equal(2, (await f.Store.GetTraceAsync(Tenant, trace[0].TraceId, default)).Count);
        Assert.Equal([new DependencyLink("frontend", "backend", 21, 21)], await f.Store.GetDependenciesAsync(Tenant, f.Now, TimeSpan.FromHours(1), default));

        await f.ReopenAsync();
        Assert.Equal(42, Assert.Single(f.Store.ListBlocks()).SpanCount);
    }

    [Fact]
    public async Task Retention_drops_whole_blocks_after_seven_days_and_keeps_dependencies_as_hourly_aggregates_for_thirty()
    {
        await using var f = new EmbeddedStoreFixture();
        var start = f.Now;
        await f.Store.AppendAsync(Tenant, TestSpans.Trace(start.AddMinutes(-1)), default);
        await f.Store.AppendAsync(Tenant, TestSpans.Trace(start.AddMinutes(-1), service: "gateway"), default);
        await f.Store.CutHeadAsync();

        // Advancing the clock also wakes the background maintenance, so assert on effects, not on who did the work.
        f.Time.Advance(TimeSpan.FromDays(6));
        await f.Store.ApplyRetentionAsync();
        Assert.Single(f.BlockDirectories());
        await f.Store.AppendAsync(Tenant, TestSpans.Trace(f.Now), default);
        await f.Store.CutHeadAsync();

        f.Time.Advance(TimeSpan.FromDays(2));
        await f.Store.ApplyRetentionAsync();
        Assert.Single(f.BlockDirectories());
        Assert.Equal(2, f.Store.GetStats().Spans);
        Assert.Contains(f.Log.Lines, l => l.Contains("Retention: deleted block", StringComparison.Ordinal));

        // The old spans are gone, their dependency edges are not.
        Assert.Empty(await f.Store.FindTracesAsync(Tenant, new TraceQuery { ServiceName = "gateway" }, default));
        var old = await f.Store.GetDependenciesAsync(Tenant, start, TimeSpan.FromHours(1), default);
        Assert.Equal([new DependencyLink("frontend", "backend", 1, 1), new DependencyLink("gateway", "backend", 1, 1)], old);
        var dayFile = Assert.Single(System.IO.Directory.GetFiles(Path.Combine(f.Directory, "aggregates"), "*.json", SearchOption.AllDirectories));
        Assert.Contains("\"bucketSeconds\":3600", File.ReadAllText(dayFile), StringComparison.Ordinal);

        await f.ReopenAsync();
        Assert.Equal(old, await f.Store.GetDependenciesAsync(Tenant, start, TimeSpan.FromHours(1), default));

        f.Time.Advance(TimeSpan.FromDays(23));
        await f.Store.ApplyRetentionAsync();
        Assert.Empty(await f.Store.GetDependenciesAsync(Tenant, start, TimeSpan.FromHours(1), default));
    }

    [Fact]
    public async Task A_data_directory_of_another_format_version_is_refused_at_start_up_with_a_clear_message()
    {
        await using var f = new EmbeddedStoreFixture();
        await File.WriteAllTextAsync(Path.Combine(f.Directory, "FORMAT"), "ariadne-embedded 99\n");
        var error = Assert.Throws<StorageFormatException>(() => f.Open());
        Assert.Contains("format version 99", error.Message, StringComparison.Ordinal);
        Assert.Contains("this build reads versions 1 to 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_head_is_cut_into_blocks_by_size_while_ingesting_and_by_age_on_the_clock()
    {
        await using var f = new EmbeddedStoreFixture(new EmbeddedStorageOptions { HeadMaxSpans = 100, RowGroupSpans = 64, CompactionInterval = TimeSpan.FromDays(1) });
        for (var i = 0; i < 60; i++)
        {
            await f.Store.AppendAsync(Tenant, TestSpans.Trace(f.Now), default);
        }

        await WaitUntil(() => f.Store.ListBlocks().Count >= 1);
        var before = f.Store.ListBlocks().Count;
        await f.Store.AppendAsync(Tenant, TestSpans.Trace(f.Now), default);
        f.Time.Advance(TimeSpan.FromMinutes(2));
        await WaitUntil(() => f.Store.ListBlocks().Count > before);
        Assert.Equal(122, f.Store.GetStats().Spans);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("map")]
    [InlineData("payload")]
    public async Task A_composite_or_bytes_attribute_is_found_by_its_text_in_the_head_and_in_a_block(string key)
    {
        // Blocks hash an array's or map's JSON text without making the string: the filters and index must agree with the
        // text a search sends (AnyValue.ToString), or the block is skipped.
        await using var f = new EmbeddedStoreFixture();
        var trace = TestSpans.Trace(f.Now.AddMinutes(-5));
        var text = trace[0].Attributes.Single(a => a.Key == key).Value.ToString();
        await f.Store.AppendAsync(Tenant, trace, default);
        var query = new TraceQuery { Tags = new Dictionary<string, string> { [key] = text } };

        Assert.Single(await f.Store.FindTracesAsync(Tenant, query, default));
        await f.Store.CutHeadAsync();
        Assert.Single(await f.Store.FindTracesAsync(Tenant, query, default));
        Assert.Empty(await f.Store.FindTracesAsync(Tenant, new TraceQuery { Tags = new Dictionary<string, string> { [key] = text + " " } }, default));
    }

    [Fact]
    public async Task Searches_and_trace_reads_during_cuts_see_every_trace_whole()
    {
        // A cut moves the spans from the head to a block; a read that took the blocks before that step and the heads
        // after it saw neither (found by a storage bench as "trace not found" right after a cut).
        await using var f = new EmbeddedStoreFixture(new EmbeddedStorageOptions { RowGroupSpans = 64, CompactionInterval = TimeSpan.FromDays(1) });
        var written = new List<List<Span>>();
        var failures = new List<string>();
        for (var round = 0; round < 25; round++)
        {
            for (var i = 0; i < 100; i++)
            {
                var trace = TestSpans.Trace(f.Now.AddMinutes(-30).AddSeconds(round * 100 + i));
                await f.Store.AppendAsync(Tenant, trace, default);
                written.Add(trace);
            }

            var cut = Task.Run(() => f.Store.CutHeadAsync());
            var newest = written[^1];
            do
            {
                var found = await f.Store.FindTracesAsync(Tenant, new TraceQuery { ServiceName = "frontend", Limit = 100_000 }, default);
                if (found.Count != written.Count || found.Any(t => t.Count != newest.Count))
                {
                    failures.Add($"round {round}: search found {found.Count} of {written.Count} traces, spans per trace {string.Join(",", found.Select(t => t.Count).Distinct())}");
                }

                var read = await f.Store.GetTraceAsync(Tenant, newest[0].TraceId, default);
                if (read.Count != newest.Count)
                {
                    failures.Add($"round {round}: trace by id read {read.Count} of {newest.Count} spans");
                }
            }
            while (!cut.IsCompleted);

            await cut;
        }

        Assert.Empty(failures);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
