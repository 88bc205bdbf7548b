using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.ClickHouse;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Pipeline;
using Microsoft.Extensions.Time.Testing;

namespace Ariadne.Tests.Storage.ClickHouse;

/// <summary>
/// ClickHouse stopped and restarted under load, fed from the ingest log as `ariadne serve` runs it (the real
/// pipeline in front of it). These tests stop their own server.
/// </summary>
public sealed class ClickHouseOutageTests(ClickHouseFixture fixture) : IClassFixture<ClickHouseFixture>, IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("ariadne-chlog-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_clickhouse_restart_mid_load_loses_no_acknowledged_span()
    {
        var options = new ClickHouseOptions { Url = fixture.Server.Url.ToString(), Database = ClickHouseFixture.NewDatabase(), RequestTimeout = TimeSpan.FromSeconds(5) };
        var store = new ClickHouseSpanStore(options);
        await store.InitializeAsync();
        await using var pipeline = new PipelineHarness(_data, _time, store: store);
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        var acknowledged = new System.Collections.Concurrent.ConcurrentQueue<TraceId>();
        using var done = new CancellationTokenSource();

        // Four exporters keep sending until told to stop: before, during and after the outage.
        var load = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; !done.IsCancellationRequested; i++)
            {
                var trace = TraceData.Checkout(writer * 100_000 + i, start.AddMilliseconds(i));
                if ((await pipeline.IngestAsync("acme", trace)).Unavailable is null)
                {
                    acknowledged.Enqueue(trace[0].TraceId);
                }
            }
        })).ToArray();

        await AcknowledgedAsync(acknowledged, 40);
        await fixture.Server.StopAsync();
        var beforeRestart = acknowledged.Count;
        await AcknowledgedAsync(acknowledged, beforeRestart + 40);
        var duringOutage = acknowledged.Count - beforeRestart;
        await fixture.Server.StartAsync();
        await AcknowledgedAsync(acknowledged, acknowledged.Count + 40);
        await done.CancelAsync();
        await Task.WhenAll(load);
        await store.FlushAsync(default);

        Assert.True(duringOutage >= 40, $"only {duringOutage} batches were acknowledged while ClickHouse was down");
        var found = await store.FindTracesAsync("acme", new TraceQuery { ServiceName = "payments", Limit = 1_000_000 }, default);
        Assert.Equal(acknowledged.Order().ToList(), found.Select(t => t[0].TraceId).Order().ToList());
        Assert.All(found, t => Assert.Equal(4, t.Count));
        Assert.Null(store.Backlog);
    }

    [Fact]
    public async Task Beyond_the_backlog_bound_ingest_is_refused_until_clickhouse_catches_up()
    {
        var options = new ClickHouseOptions { Url = fixture.Server.Url.ToString(), Database = ClickHouseFixture.NewDatabase(), MaxBacklogSpans = 2000, RequestTimeout = TimeSpan.FromSeconds(5) };
        var store = new ClickHouseSpanStore(options);
        await store.InitializeAsync();
        await using var pipeline = new PipelineHarness(_data, _time, store: store);
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        await fixture.Server.StopAsync();

        var accepted = new List<TraceId>();
        Ariadne.Pipeline.IngestUnavailable? refused = null;
        for (var i = 0; refused is null && i < 100_000; i++)
        {
            var batch = Enumerable.Range(0, 50).SelectMany(j => TraceData.Checkout(i * 50 + j, start.AddMilliseconds(i))).ToList();
            refused = (await pipeline.IngestAsync("acme", batch)).Unavailable;
            if (refused is null)
            {
                accepted.AddRange(batch.Where(s => s.ParentSpanId.IsEmpty).Select(s => s.TraceId));
            }
        }

        await fixture.Server.StartAsync();
        await store.FlushAsync(default);

        Assert.NotNull(refused);
        Assert.Contains("ClickHouse:MaxBacklogSpans", refused.Message, StringComparison.Ordinal);
        var stored = await store.QueryRowsAsync($"SELECT uniqExact(trace_id) FROM {options.Database}.spans", default);
        Assert.Equal(accepted.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), stored[0][0]);
        Assert.Null((await pipeline.IngestAsync("acme", TraceData.Checkout(999_999, start))).Unavailable);
    }

    [Fact]
    public async Task A_request_held_by_the_backlog_is_accepted_when_clickhouse_catches_up_within_the_wait()
    {
        var options = new ClickHouseOptions { Url = fixture.Server.Url.ToString(), Database = ClickHouseFixture.NewDatabase(), MaxBacklogSpans = 2000, RequestTimeout = TimeSpan.FromSeconds(5) };
        var store = new ClickHouseSpanStore(options);
        await store.InitializeAsync();
        await using var pipeline = new PipelineHarness(_data, _time, store: store, ingest: new Ariadne.Configuration.IngestOptions { BacklogWait = TimeSpan.FromSeconds(30) });
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        await fixture.Server.StopAsync();
        for (var i = 0; store.Backlog is null; i++)
        {
            Assert.Null((await pipeline.IngestAsync("acme", Enumerable.Range(0, 50).SelectMany(j => TraceData.Checkout(i * 50 + j, start)))).Unavailable);
        }

        // Sent while ClickHouse is down and the backlog full: refused at once it would carry Unavailable; held, it is
        // accepted once ClickHouse is back and the backlog drains.
        var held = pipeline.IngestAsync("acme", TraceData.Checkout(999_999, start));
        await fixture.Server.StartAsync();

        Assert.Null((await held).Unavailable);
    }

    [Fact]
    public async Task Past_the_memory_bound_spans_wait_on_disk_and_reach_clickhouse_when_it_is_back()
    {
        var options = new ClickHouseOptions
        {
            Url = fixture.Server.Url.ToString(), Database = ClickHouseFixture.NewDatabase(), MaxBacklogSpans = 2000, MaxBatchSpans = 1000,
            MaxSpillBytes = 2 << 20, RequestTimeout = TimeSpan.FromSeconds(5),
        };
        var spill = Path.Combine(_data, ClickHouseSpanStore.SpillDirectoryName);
        var store = new ClickHouseSpanStore(options, spillDirectory: spill);
        await store.InitializeAsync();
        await using var pipeline = new PipelineHarness(_data, _time, store: store, ingest: new Ariadne.Configuration.IngestOptions { BacklogWait = TimeSpan.Zero });
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        await fixture.Server.StopAsync();

        var accepted = 0;
        Ariadne.Pipeline.IngestUnavailable? refused = null;
        for (var i = 0; refused is null && i < 100_000; i++)
        {
            var batch = Enumerable.Range(0, 50).SelectMany(j => TraceData.Checkout(i * 50 + j, start.AddMilliseconds(i))).ToList();
            refused = (await pipeline.IngestAsync("acme", batch)).Unavailable;
            accepted += refused is null ? 50 : 0;
        }

        Assert.NotNull(refused);
        Assert.Contains("ClickHouse:MaxSpillBytes", refused.Message, StringComparison.Ordinal);
        Assert.True(accepted * 4 > 2 * options.MaxBacklogSpans, $"only {accepted} traces (4 spans each) accepted before the disk bound");
        Assert.NotEmpty(Directory.GetFiles(spill));

        await fixture.Server.StartAsync();
        await store.FlushAsync(default);
        var stored = await store.QueryRowsAsync($"SELECT uniqExact(trace_id) FROM {options.Database}.spans", default);
        Assert.Equal(accepted.ToString(System.Globalization.CultureInfo.InvariantCulture), stored[0][0]);
        Assert.Empty(Directory.GetFiles(spill));
        Assert.Null(store.Backlog);
    }

    private static async Task AcknowledgedAsync(System.Collections.Concurrent.ConcurrentQueue<TraceId> acknowledged, int count)
    {
        while (acknowledged.Count < count)
        {
            await Task.Delay(5);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner.
        }
    }
}
