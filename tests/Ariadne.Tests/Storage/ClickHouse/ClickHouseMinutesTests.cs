using Ariadne.Model;
using Ariadne.Pipeline.Log;
using Ariadne.Storage;
using Ariadne.Storage.ClickHouse;
using Ariadne.Storage.ClickHouse.Minutes;
using Ariadne.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ariadne.Tests.Storage.ClickHouse;

/// <summary>
/// The storage contract on ClickHouse with dependencies answered from <c>edge_minutes</c>: every appended batch is
/// observed by the minute feed first, as the pipeline hands every span to the aggregators before storage.
/// </summary>
public sealed class ClickHouseMinutesContractTests(ClickHouseFixture fixture) : SpanStoreContractTests, IClassFixture<ClickHouseFixture>
{
    private readonly string _database = ClickHouseFixture.NewDatabase();

    protected override async Task<ISpanStore> CreateStoreAsync()
    {
        var store = new ClickHouseSpanStore(new ClickHouseOptions { Url = fixture.Server.Url.ToString(), Database = _database });
        await store.InitializeAsync();
        var feed = new ClickHouseMinuteFeed(store, "contract", fedFromLog: false, TimeSpan.FromMinutes(10), TimeProvider.System, NullLogger.Instance);
        return new MinutesFedStore(store, feed);
    }

    protected override async Task<ISpanStore> ReopenAsync(ISpanStore store)
    {
        await store.DisposeAsync();
        return await CreateStoreAsync();
    }

    /// <summary>The pipeline's order in one class: the feed observes a batch, then the engine stores it.</summary>
    private sealed class MinutesFedStore(ClickHouseSpanStore store, ClickHouseMinuteFeed feed) : ISpanStore
    {
        public async ValueTask AppendAsync(string tenant, IReadOnlyList<Span> spans, CancellationToken cancellationToken)
        {
            feed.Observe(tenant, spans);
            await store.AppendAsync(tenant, spans, cancellationToken);
        }

        public ValueTask<IReadOnlyList<Span>> GetTraceAsync(string tenant, TraceId traceId, CancellationToken cancellationToken) => store.GetTraceAsync(tenant, traceId, cancellationToken);

        public ValueTask<IReadOnlyList<string>> GetServicesAsync(string tenant, CancellationToken cancellationToken) => store.GetServicesAsync(tenant, cancellationToken);

        public ValueTask<IReadOnlyList<OperationInfo>> GetOperationsAsync(string tenant, string service, SpanKind? kind, CancellationToken cancellationToken) =>
            store.GetOperationsAsync(tenant, service, kind, cancellationToken);

        public ValueTask<IReadOnlyList<IReadOnlyList<Span>>> FindTracesAsync(string tenant, TraceQuery query, CancellationToken cancellationToken) => store.FindTracesAsync(tenant, query, cancellationToken);

        public ValueTask<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken) =>
            store.GetDependenciesAsync(tenant, endTime, lookback, cancellationToken);

        public StorageStats GetStats() => store.GetStats();

        public async ValueTask DisposeAsync()
        {
            await feed.DisposeAsync();
            await store.DisposeAsync();
        }
    }
}

/// <summary>The minute feed against a real ClickHouse: figures from every observed span, written once per log position.</summary>
public sealed class ClickHouseMinuteFeedTests(ClickHouseFixture fixture) : IClassFixture<ClickHouseFixture>
{
    private static readonly DateTimeOffset s_start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60 - 7200);
    private readonly string _database = ClickHouseFixture.NewDatabase();

    [Fact]
    public async Task Log_records_replayed_after_a_crash_count_once()
    {
        var traces = Enumerable.Range(0, 3).Select(i => TraceData.Checkout(i, s_start.AddSeconds(i), fail: i == 1)).ToList();

        // First life: two records written, then a crash before the aggregators' checkpoint covered them.
        await using (var store = await OpenAsync())
        {
            await using var feed = NewFeed(store);
            Observe(feed, traces[0], new LogPosition(1, 0));
            Observe(feed, traces[1], new LogPosition(1, 500));
            await feed.FlushAsync();
        }

        // Second life: the log hands both records again, then a new one.
        await using (var store = await OpenAsync())
        {
            await using var feed = NewFeed(store);
            Observe(feed, traces[0], new LogPosition(1, 0));
            Observe(feed, traces[1], new LogPosition(1, 500));
            Observe(feed, traces[2], new LogPosition(2, 0));
            await feed.FlushAsync();

            Assert.Equal(Expected(traces), await CountedAsync(store));
            var oracle = new DependencyCalculator();
            traces.ForEach(oracle.AddTrace);
            Assert.Equal(oracle.ToLinks(), await store.GetDependenciesAsync("acme", s_start.AddHours(1), TimeSpan.FromHours(2), default));
        }
    }

    [Fact]
    public async Task Figures_restored_from_a_checkpoint_taken_before_their_insert_are_not_written_again()
    {
        var trace = TraceData.Checkout(7, s_start);
        byte[] checkpoint;
        await using (var store = await OpenAsync())
        {
            await using var feed = NewFeed(store);
            Observe(feed, trace, new LogPosition(3, 0));
            checkpoint = Checkpoint(feed);
            await feed.FlushAsync();
        }

        await using (var store = await OpenAsync())
        {
            await using var feed = Restored(store, checkpoint);
            await feed.FlushAsync();
            Assert.Equal(Expected([trace]), await CountedAsync(store));
        }
    }

    [Fact]
    public async Task Figures_in_a_checkpoint_that_never_reached_clickhouse_are_written_after_the_restart()
    {
        var trace = TraceData.Checkout(8, s_start);
        byte[] checkpoint;
        await using (var store = await OpenAsync())
        {
            // A crash: the feed is never flushed nor stopped (its writer waits out its 10-minute interval).
            var feed = NewFeed(store);
            Observe(feed, trace, new LogPosition(4, 0));
            checkpoint = Checkpoint(feed);
        }

        await using (var store = await OpenAsync())
        {
            await using var feed = Restored(store, checkpoint);
            await feed.FlushAsync();
            Assert.Equal(Expected([trace]), await CountedAsync(store));
        }
    }

    [Fact]
    public async Task A_child_and_its_parent_in_different_batches_make_one_edge()
    {
        var trace = TraceData.Checkout(9, s_start);
        await using var store = await OpenAsync();
        await using var feed = NewFeed(store);

        // The root (gateway) ends last, so it usually comes after its children.
        Observe(feed, trace[1..], new LogPosition(5, 0));
        Observe(feed, trace[..1], new LogPosition(5, 900));
        await feed.FlushAsync();

        var oracle = new DependencyCalculator();
        oracle.AddTrace(trace);
        Assert.Equal(oracle.ToLinks(), await store.GetDependenciesAsync("acme", s_start.AddHours(1), TimeSpan.FromHours(2), default));
    }

    [Fact]
    public async Task Two_windows_meeting_on_a_minute_count_that_minute_once()
    {
        var trace = TraceData.Checkout(10, s_start.AddSeconds(1));
        await using var store = await OpenAsync();
        await using var feed = NewFeed(store);
        Observe(feed, trace, new LogPosition(6, 0));
        await feed.FlushAsync();

        var oracle = new DependencyCalculator();
        oracle.AddTrace(trace);
        Assert.Empty(await store.GetDependenciesAsync("acme", s_start, TimeSpan.FromMinutes(1), default));
        Assert.Equal(oracle.ToLinks(), await store.GetDependenciesAsync("acme", s_start.AddMinutes(1), TimeSpan.FromMinutes(1), default));
    }

    private static void Observe(ClickHouseMinuteFeed feed, List<Span> spans, LogPosition position)
    {
        feed.Observe("acme", spans);
        feed.ObservedAt(position);
    }

    private static byte[] Checkpoint(ClickHouseMinuteFeed feed)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            feed.WriteCheckpoint(writer);
        }

        return stream.ToArray();
    }

    private ClickHouseMinuteFeed Restored(ClickHouseSpanStore store, byte[] checkpoint)
    {
        var feed = NewFeed(store);
        using var reader = new BinaryReader(new MemoryStream(checkpoint));
        feed.ReadCheckpoint(reader);
        return feed;
    }

    private ClickHouseMinuteFeed NewFeed(ClickHouseSpanStore store) =>
        new(store, "node-a", fedFromLog: true, TimeSpan.FromMinutes(10), TimeProvider.System, NullLogger.Instance);

    private async Task<ClickHouseSpanStore> OpenAsync()
    {
        var store = new ClickHouseSpanStore(new ClickHouseOptions { Url = fixture.Server.Url.ToString(), Database = _database });
        await store.InitializeAsync();
        return store;
    }

    /// <summary>Calls and errors per operation, and the sum of durations, as one line each.</summary>
    private static string[] Expected(IEnumerable<List<Span>> traces) => traces.SelectMany(t => t)
        .GroupBy(s => (s.ServiceName, s.Name))
        .OrderBy(g => g.Key.ServiceName, StringComparer.Ordinal).ThenBy(g => g.Key.Name, StringComparer.Ordinal)
        .Select(g => $"{g.Key.ServiceName} {g.Key.Name} {g.Count()} {g.Count(s => s.IsError)} {g.Sum(s => s.DurationNanos)} {g.Count()}")
        .ToArray();

    private async Task<string[]> CountedAsync(ClickHouseSpanStore store)
    {
        var rows = await store.QueryRowsAsync(
            $"SELECT service, name, sum(calls), sum(errors), sum(duration_sum), sum(arraySum(duration_buckets)) FROM {_database}.call_minutes WHERE tenant = 'acme' GROUP BY service, name ORDER BY service, name",
            default);
        return rows.Select(r => string.Join(' ', r)).ToArray();
    }
}
