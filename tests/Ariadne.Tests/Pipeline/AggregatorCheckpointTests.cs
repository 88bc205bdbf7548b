using System.Globalization;
using Ariadne.Analysis;
using Ariadne.Configuration;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Tests.Storage.ClickHouse;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace Ariadne.Tests.Pipeline;

/// <summary>
/// The span metrics and the service graph are ingest-log consumers with their own checkpoint: after a crash (a copy
/// of the data directory taken while the pipeline runs) or a clean stop, the restarted aggregators read exactly what
/// they read before, on /metrics and in the per-minute windows alerts use: no span lost, none counted twice.
/// </summary>
public sealed class AggregatorCheckpointTests : IDisposable
{
    private const string Tenant = "shop";
    private readonly List<string> _directories = [];
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero));
    private readonly DateTimeOffset _start = new(2026, 11, 20, 11, 58, 0, TimeSpan.Zero);

    [Fact]
    public async Task After_a_crash_the_restored_figures_count_every_acknowledged_span_once()
    {
        var before = new Aggregators(_time, _start);
        await using var live = Start(before, ingest: new IngestOptions { AggregatesCheckpointInterval = TimeSpan.Zero, LogSegmentBytes = 1 });
        await IngestAsync(live, 0, 20);
        await live.Embedded.CutHeadAsync();
        await live.Pipeline.RunOnceAsync(default); // writes the checkpoint covering the first 20 traces, then deletes their segments
        Assert.DoesNotContain(live.Segments(), s => s.EndsWith("0000000001.wal", StringComparison.Ordinal));
        await IngestAsync(live, 20, 35); // past the checkpoint: replayed from the log after the crash

        var after = new Aggregators(_time, _start);
        await using var restarted = Start(after, live.CrashCopy());

        Assert.Equal(GatewaySpans(35), after.Calls("gateway"));
        Assert.Equal(GatewaySpans(35), after.Window("gateway").Requests);
        Assert.Equal(await before.MetricsAsync(), await after.MetricsAsync());
    }

    [Fact]
    public async Task After_clean_stops_nothing_is_replayed_into_the_aggregators_twice()
    {
        var before = new Aggregators(_time, _start);
        var directory = NewDirectory();
        await using (var live = Start(before, directory))
        {
            await IngestAsync(live, 0, 12);
        }

        var countingSince = before.Graph.CountingSince;
        _time.Advance(TimeSpan.FromMinutes(3));

        // A start and a stop with nothing sent between must leave the figures as they were, too.
        await using (var idle = Start(new Aggregators(_time, _start), directory))
        {
        }

        var after = new Aggregators(_time, _start);
        await using var restarted = Start(after, directory);

        Assert.Equal(GatewaySpans(12), after.Calls("gateway"));
        Assert.Equal(await before.MetricsAsync(), await after.MetricsAsync());
        Assert.Equal(countingSince, after.Graph.CountingSince);
    }

    [Fact]
    public async Task A_damaged_checkpoint_is_set_aside_with_a_log_line_and_the_aggregators_count_from_the_log()
    {
        var directory = NewDirectory();
        await using (var live = Start(new Aggregators(_time, _start), directory))
        {
            await IngestAsync(live, 0, 5);
        }

        var checkpoint = Path.Combine(directory, IngestPipeline.LogDirectoryName, AggregatorCheckpoints.FileName);
        var bytes = await File.ReadAllBytesAsync(checkpoint);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(checkpoint, bytes);

        var after = new Aggregators(_time, _start);
        await using var restarted = Start(after, directory);

        Assert.True(File.Exists(checkpoint + ".corrupt"));
        Assert.Contains(restarted.Log.Lines, l => l.StartsWith("Warning: The aggregators' checkpoint", StringComparison.Ordinal) && l.Contains("CRC", StringComparison.Ordinal));
        Assert.Equal(GatewaySpans(5), after.Calls("gateway")); // the log still holds every segment since the last good checkpoint
    }

    [Fact]
    public async Task The_log_keeps_the_segments_past_the_aggregators_checkpoint()
    {
        var aggregators = new Aggregators(_time, _start);
        await using var live = Start(aggregators, ingest: new IngestOptions { AggregatesCheckpointInterval = TimeSpan.FromHours(1), LogSegmentBytes = 1 << 20 });
        await IngestAsync(live, 0, 4);
        await live.Embedded.CutHeadAsync();
        await live.Pipeline.RunOnceAsync(default);

        // Storage has made everything durable, but no aggregator checkpoint has been written: the first segment stays.
        Assert.Contains(live.Segments(), s => Path.GetFileNameWithoutExtension(s) == "0000000001");
    }

    [Fact]
    public async Task An_aggregator_that_throws_keeps_neither_storage_nor_the_other_aggregators_from_the_spans()
    {
        var aggregators = new Aggregators(_time, _start);
        await using var live = new PipelineHarness(NewDirectory(), _time, ingest: new IngestOptions { AggregatesCheckpointInterval = TimeSpan.Zero },
            aggregators: [new ThrowingAggregator(), aggregators.Red, aggregators.Graph]);
        await IngestAsync(live, 0, 3);

        Assert.Equal(GatewaySpans(3), aggregators.Calls("gateway"));
        Assert.Equal(3, (await live.Store.FindTracesAsync(Tenant, new TraceQuery { ServiceName = "gateway", Limit = 10 }, default)).Count);
        Assert.Contains(live.Log.Lines, l => l.Contains("ThrowingAggregator", StringComparison.Ordinal) && l.Contains("other aggregators", StringComparison.Ordinal));
    }

    private sealed class ThrowingAggregator : IIngestAggregator
    {
        public void Observe(string tenant, IReadOnlyList<Span> spans) => throw new InvalidOperationException("aggregator bug");
    }

    private long GatewaySpans(int traces) => Enumerable.Range(0, traces).Sum(i => TraceData.Checkout(i, _start).Count(s => s.ServiceName == "gateway"));

    private async Task IngestAsync(PipelineHarness harness, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            Assert.Null((await harness.IngestAsync(Tenant, TraceData.Checkout(i, _start.AddSeconds(i), fail: i % 5 == 0))).Unavailable);
        }
    }

    private PipelineHarness Start(Aggregators aggregators, string? directory = null, IngestOptions? ingest = null) =>
        new(directory ?? NewDirectory(), _time, ingest: ingest ?? new IngestOptions { AggregatesCheckpointInterval = TimeSpan.Zero }, aggregators: [aggregators.Red, aggregators.Graph]);

    private string NewDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("ariadne-aggregates-").FullName;
        _directories.Add(directory);
        return directory;
    }

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class Aggregators
    {
        private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
        private readonly DateTimeOffset _start;

        public Aggregators(FakeTimeProvider time, DateTimeOffset start)
        {
            _start = start;
            Red = new SpanMetricsAggregator(_registry);
            Graph = new ServiceGraphAggregator(_registry, time);
        }

        public SpanMetricsAggregator Red { get; }

        public ServiceGraphAggregator Graph { get; }

        public long Calls(string service) => Red.Series.Where(s => s.Key.Service == service).Sum(s => s.Value.Calls);

        /// <summary>The per-minute figures alert rules read, over the minutes the test's traces start in.</summary>
        public SpanMetricsAggregator.RedWindow Window(string service)
        {
            var minute = MinuteRing.MinuteOf((_start - DateTimeOffset.UnixEpoch).Ticks * 100);
            return Red.Window(Tenant, service, operation: null, minute, minute + 5);
        }

        /// <summary>The span-metrics and service-graph series of /metrics, sorted, exemplars left out and sums rounded to the nanosecond.</summary>
        public async Task<string> MetricsAsync()
        {
            using var stream = new MemoryStream();
            await _registry.CollectAndExportAsTextAsync(stream);
            var lines = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n')
                .Where(l => l.StartsWith("traces_", StringComparison.Ordinal))
                .Select(l => l.Split(" # ")[0])
                .Select(l => l.Contains("_sum{", StringComparison.Ordinal) ? RoundSum(l) : l)
                .Order(StringComparer.Ordinal);
            return string.Join('\n', lines);
        }

        private static string RoundSum(string line)
        {
            var space = line.LastIndexOf(' ');
            var value = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            return line[..space] + " " + Math.Round(value, 9).ToString("R", CultureInfo.InvariantCulture);
        }
    }
}
