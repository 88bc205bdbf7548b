using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Embedded.Logs;
using Ariadne.Storage.Memory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Ariadne.Tests.Logs;

/// <summary>The log stores beyond the contract (<see cref="Storage.LogStoreContractTests"/>): the embedded one's day directories, retention and torn segments; the memory one's bound.</summary>
public sealed class LogStoreTests : IAsyncDisposable
{
    private static readonly TraceId s_trace = TraceId.FromBytes(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray());
    private static readonly Resource s_resource = new() { ServiceName = "orders", Attributes = [new("host.name", AnyValue.FromString("web-1"))] };

    private readonly string _directory = Directory.CreateTempSubdirectory("ariadne-logs-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero));
    private readonly EmbeddedStorageOptions _options = new() { DetailedRetention = TimeSpan.FromDays(2) };

    [Fact]
    public async Task Embedded_logs_go_to_one_directory_per_day_and_retention_drops_whole_days()
    {
        var later = TraceId.FromBytes(Enumerable.Range(101, 16).Select(i => (byte)i).ToArray());
        await using var store = Open();
        await store.AppendAsync("t", [Record(s_trace, 1, "day one")], CancellationToken.None);
        _time.Advance(TimeSpan.FromDays(1));
        await store.AppendAsync("t", [Record(later, 2, "day two")], CancellationToken.None);
        Assert.Equal(["2026-11-20", "2026-11-21"], Directory.GetDirectories(Path.Combine(_directory, EmbeddedLogStore.DirectoryName)).Select(Path.GetFileName).Order());

        // The retention timer runs as the clock passes its interval; a direct call finds nothing more to drop.
        _time.Advance(TimeSpan.FromDays(1.6));
        store.ApplyRetention();
        Assert.Equal(["2026-11-21"], Directory.GetDirectories(Path.Combine(_directory, EmbeddedLogStore.DirectoryName)).Select(Path.GetFileName));

        Assert.Empty(await store.GetTraceLogsAsync("t", s_trace, CancellationToken.None));
        Assert.Equal("day two", Assert.Single(await store.GetTraceLogsAsync("t", later, CancellationToken.None)).Body.AsString);
    }

    [Fact]
    public async Task Embedded_logs_of_one_trace_spread_over_rotated_segments_are_all_found_and_a_torn_tail_is_dropped()
    {
        await using (var store = EmbeddedLogStore.Open(_directory, _options, segmentBytes: 64 * 1024, _time, NullLogger.Instance))
        {
            for (var i = 0; i < 40; i++)
            {
                // Random hex: Brotli cannot shrink it much, so the segments fill up.
                var big = Record(s_trace, i + 1, Convert.ToHexString(new Random(i).GetItems<byte>([.. Enumerable.Range(0, 256).Select(b => (byte)b)], 4000)));
                await store.AppendAsync("t", [big], CancellationToken.None);
            }
        }

        var day = Path.Combine(_directory, EmbeddedLogStore.DirectoryName, "2026-11-20");
        Assert.True(Directory.GetFiles(day).Length > 1);
        var last = Directory.GetFiles(day).Where(f => new FileInfo(f).Length > 0).Order().Last();
        await File.AppendAllBytesAsync(last, [9, 0, 0, 0, 1, 2]);

        await using var reopened = Open();
        var logs = await reopened.GetTraceLogsAsync("t", s_trace, CancellationToken.None);
        Assert.Equal(40, logs.Count);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), logs.Select(l => l.TimeUnixNano));
    }

    [Fact]
    public async Task The_memory_log_store_keeps_at_most_its_bound_evicting_the_oldest_traces()
    {
        var store = new MemoryLogStore(maxRecords: 3);
        var traces = Enumerable.Range(1, 3).Select(n => TraceId.FromBytes(Enumerable.Repeat((byte)n, 16).ToArray())).ToArray();
        await store.AppendAsync("t", [Record(traces[0], 1, "a"), Record(traces[0], 2, "b")], CancellationToken.None);
        await store.AppendAsync("t", [Record(traces[1], 3, "c")], CancellationToken.None);
        await store.AppendAsync("t", [Record(traces[2], 4, "d")], CancellationToken.None);

        Assert.Empty(await store.GetTraceLogsAsync("t", traces[0], CancellationToken.None));
        Assert.Single(await store.GetTraceLogsAsync("t", traces[1], CancellationToken.None));
        Assert.Single(await store.GetTraceLogsAsync("t", traces[2], CancellationToken.None));
        Assert.Empty(await store.GetTraceLogsAsync("other", traces[2], CancellationToken.None));
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }

    private EmbeddedLogStore Open() => EmbeddedLogStore.Open(_directory, _options, segmentBytes: 1 << 20, _time, NullLogger.Instance);

    private static LogRecord Record(TraceId traceId, long time, string body) => new()
    {
        TraceId = traceId,
        SpanId = new SpanId(0x1234),
        TimeUnixNano = time,
        ObservedTimeUnixNano = time + 5,
        SeverityNumber = 9,
        Body = AnyValue.FromString(body),
        Resource = s_resource,
    };
}
