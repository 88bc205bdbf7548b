using Ariadne.Model;
using Ariadne.Storage.ClickHouse;
using Ariadne.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Ariadne.Tests.Storage.ClickHouse;

/// <summary>The engine over two real ClickHouse servers, the two shards of a Distributed cluster.</summary>
public sealed class ClickHouseClusterTests(ClickHouseClusterFixture fixture) : IClassFixture<ClickHouseClusterFixture>
{
    [Fact]
    public async Task Queries_through_distributed_tables_answer_as_the_memory_engine_does()
    {
        await using var store = await OpenAsync();
        await ClickHouseSpanStoreTests.AssertSameAnswersAsMemoryAsync(store);
    }

    [Fact]
    public async Task Traces_spread_over_both_shards_and_each_lives_on_one()
    {
        var options = Options();
        await using var store = new ClickHouseSpanStore(options);
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var traces = Enumerable.Range(0, 40).Select(i => TraceData.Checkout(i, start.AddSeconds(i))).ToList();
        await store.AppendAsync("acme", traces.SelectMany(t => t).ToList(), default);

        var perShard = new List<HashSet<TraceId>>();
        foreach (var node in store.Nodes)
        {
            var rows = await node.QueryRowsAsync($"SELECT hex(trace_id), count() FROM {options.Database}.spans_local GROUP BY trace_id", default);
            Assert.All(rows, r => Assert.Equal("4", r[1]));
            perShard.Add(rows.Select(r => TraceId.TryParseHex(r[0], out var id) ? id : default).ToHashSet());
        }

        Assert.All(perShard, shard => Assert.NotEmpty(shard));
        Assert.Empty(perShard[0].Intersect(perShard[1]));
        Assert.Equal(40, perShard.Sum(s => s.Count));
        foreach (var trace in traces)
        {
            Assert.Equal(TraceData.Describe(trace), TraceData.Describe(await store.GetTraceAsync("acme", trace[0].TraceId, default)));
        }
    }

    [Fact]
    public async Task Retention_drops_old_partitions_on_every_shard()
    {
        var options = Options();
        await using var store = new ClickHouseSpanStore(options);
        var now = new DateTimeOffset(2030, 3, 20, 12, 0, 0, TimeSpan.Zero);
        var old = Enumerable.Range(0, 10).SelectMany(i => TraceData.Checkout(i, now.AddDays(-9).AddSeconds(i))).ToList();
        var recent = Enumerable.Range(10, 10).SelectMany(i => TraceData.Checkout(i, now.AddHours(-1).AddSeconds(i))).ToList();
        await store.AppendAsync("acme", [.. old, .. recent], default);

        await new ClickHouseMaintenance(store, options, new FakeTimeProvider(now), NullLogger<ClickHouseMaintenance>.Instance).RunOnceAsync(default);

        foreach (var node in store.Nodes)
        {
            var days = await node.QueryRowsAsync($"SELECT DISTINCT toDate(toDateTime(intDiv(start_ns, 1000000000))) FROM {options.Database}.spans_local", default);
            Assert.Equal([["2030-03-20"]], days);
        }

        Assert.Equal(recent.Count, store.GetStats().Spans);
        Assert.Equal(10, store.GetStats().Traces);
    }

    [Fact]
    public async Task A_cluster_missing_from_remote_servers_stops_start_up_with_its_name()
    {
        var options = Options();
        options.Cluster = "no_such_cluster";
        await using var store = new ClickHouseSpanStore(options);

        var error = await Assert.ThrowsAsync<ClickHouseException>(() => store.InitializeAsync());

        Assert.Contains("no_such_cluster", error.Message, StringComparison.Ordinal);
    }

    private ClickHouseOptions Options() => new()
    {
        Url = fixture.Url,
        Cluster = ClickHouseClusterFixture.Cluster,
        Database = ClickHouseFixture.NewDatabase(),
    };

    private async Task<ClickHouseSpanStore> OpenAsync()
    {
        var store = new ClickHouseSpanStore(Options());
        await store.InitializeAsync();
        return store;
    }
}
