using Ariadne.Configuration;
using Ariadne.Model;
using Ariadne.Pipeline.Log;
using Ariadne.Sampling;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Sampling;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Ariadne.Tests.Pipeline;

/// <summary>
/// The ingest log and its one recovery path, through the real pipeline and embedded engine: a crash (a copy of the
/// data directory taken while the pipeline runs) loses no acknowledged span and stores none twice, with and without
/// tail sampling; segments go once every consumer has passed them. The real-process kill -9 tests are in
/// CrashRecoveryTests.
/// </summary>
public sealed class IngestLogTests : IDisposable
{
    private const string Tenant = "shop";
    private readonly List<string> _directories = [];
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero));
    private readonly SamplingTestData _data = new(21);

    [Fact]
    public async Task Acknowledged_spans_survive_a_crash_and_each_is_stored_once_across_a_cut()
    {
        await using var live = Start();
        var before = Trace("GET /before");
        await live.IngestAsync(Tenant, before);
        await live.Embedded.CutHeadAsync();
        var after = Trace("GET /after");
        await live.IngestAsync(Tenant, after);

        await using var restarted = Start(live.CrashCopy());
        Assert.Equal(2, (await restarted.Store.GetTraceAsync(Tenant, before[0].TraceId, default)).Count);
        Assert.Equal(2, (await restarted.Store.GetTraceAsync(Tenant, after[0].TraceId, default)).Count);
        Assert.Equal(4, restarted.Store.GetStats().Spans);
        Assert.Contains(restarted.Log.Lines, l => l.Contains("Ingest log replay", StringComparison.Ordinal) && l.Contains("2 spans handed to storage", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_torn_record_at_the_end_of_the_log_is_dropped_with_a_log_line_and_every_earlier_record_is_taken()
    {
        await using var live = Start();
        var traces = new[] { Trace("GET /1"), Trace("GET /2"), Trace("GET /3") };
        foreach (var trace in traces)
        {
            await live.IngestAsync(Tenant, trace);
        }

        var copy = live.CrashCopy();
        var segment = Directory.GetFiles(Path.Combine(copy, "log")).Single(p => new FileInfo(p).Length > 0);
        var bytes = await File.ReadAllBytesAsync(segment);
        await File.WriteAllBytesAsync(segment, bytes[..^7]);

        await using var restarted = Start(copy);
        Assert.Equal(2, (await restarted.Store.GetTraceAsync(Tenant, traces[0][0].TraceId, default)).Count);
        Assert.Equal(2, (await restarted.Store.GetTraceAsync(Tenant, traces[1][0].TraceId, default)).Count);
        Assert.Empty(await restarted.Store.GetTraceAsync(Tenant, traces[2][0].TraceId, default));
        Assert.Contains(restarted.Log.Lines, l => l.StartsWith("Warning: Ingest log replay", StringComparison.Ordinal) && l.Contains("torn", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_block_of_a_cut_that_did_not_finish_is_removed_and_its_spans_taken_again_from_the_log()
    {
        await using var live = Start();
        var trace = Trace("GET /");
        await live.IngestAsync(Tenant, trace);
        var copy = live.CrashCopy();
        await live.Embedded.CutHeadAsync();

        // The crash came after the cut wrote its block but before it moved the checkpoint.
        foreach (var block in Directory.GetDirectories(Path.Combine(live.Directory, "blocks"), "*", SearchOption.AllDirectories).Where(d => File.Exists(Path.Combine(d, "meta.json"))))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(live.Directory, block));
            Directory.CreateDirectory(target);
            foreach (var file in Directory.GetFiles(block))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
            }
        }

        await using var restarted = Start(copy);
        Assert.Equal(2, (await restarted.Store.GetTraceAsync(Tenant, trace[0].TraceId, default)).Count);
        Assert.Equal(2, restarted.Store.GetStats().Spans);
        Assert.Contains(restarted.Log.Lines, l => l.Contains("did not finish", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Traces_held_for_a_decision_at_a_crash_are_decided_after_the_restart_by_the_same_policies()
    {
        var error = _data.Root("web", "GET /", status: StatusCode.Error);
        var errorChild = _data.Span(error.TraceId, "db", "SELECT", error.SpanId);
        var fast = _data.Root("web", "GET /");
        await using var live = Start(sampling: TailPolicies());
        await live.IngestAsync(Tenant, [error, errorChild, fast]);
        Assert.Equal(2, live.Sampler.BufferedTraces);

        await using var restarted = Start(live.CrashCopy(), TailPolicies());
        Assert.Equal(2, restarted.Sampler.BufferedTraces);
        Assert.Empty(await restarted.Store.GetTraceAsync(Tenant, error.TraceId, default));

        _time.Advance(TimeSpan.FromSeconds(11));
        await restarted.Pipeline.RunOnceAsync(default);
        await Poll.UntilAsync(async () => (await restarted.Store.GetTraceAsync(Tenant, error.TraceId, default)).Count == 2);
        Assert.Empty(await restarted.Store.GetTraceAsync(Tenant, fast.TraceId, default));
    }

    [Fact]
    public async Task Decisions_made_before_a_crash_hold_after_it_and_late_spans_follow_them_without_storing_anything_twice()
    {
        var kept = _data.Root("web", "GET /", status: StatusCode.Error);
        var dropped = _data.Root("web", "GET /");
        await using var live = Start(sampling: TailPolicies());
        await live.IngestAsync(Tenant, [kept, dropped]);
        _time.Advance(TimeSpan.FromSeconds(11));
        await live.Pipeline.RunOnceAsync(default);
        await Poll.UntilAsync(async () => (await live.Store.GetTraceAsync(Tenant, kept.TraceId, default)).Count == 1);

        await using var restarted = Start(live.CrashCopy(), TailPolicies());
        Assert.Equal(0, restarted.Sampler.BufferedTraces);
        Assert.Single(await restarted.Store.GetTraceAsync(Tenant, kept.TraceId, default));
        await restarted.IngestAsync(Tenant, [_data.Span(kept.TraceId, "db", "SELECT", kept.SpanId), _data.Span(dropped.TraceId, "db", "SELECT", dropped.SpanId)]);
        Assert.Equal(2, (await restarted.Store.GetTraceAsync(Tenant, kept.TraceId, default)).Count);
        Assert.Empty(await restarted.Store.GetTraceAsync(Tenant, dropped.TraceId, default));
        Assert.Equal(0, restarted.Sampler.BufferedTraces);
        Assert.Equal(2, restarted.Store.GetStats().Spans);
    }

    [Fact]
    public async Task With_tail_sampling_switched_off_after_a_crash_what_it_held_is_stored()
    {
        var error = _data.Root("web", "GET /", status: StatusCode.Error);
        var fast = _data.Root("web", "GET /");
        await using var live = Start(sampling: TailPolicies());
        await live.IngestAsync(Tenant, [error, fast]);

        await using var restarted = Start(live.CrashCopy());
        Assert.Single(await restarted.Store.GetTraceAsync(Tenant, error.TraceId, default));
        Assert.Single(await restarted.Store.GetTraceAsync(Tenant, fast.TraceId, default));
    }

    [Fact]
    public async Task Segments_go_once_storage_has_cut_them_and_no_held_trace_needs_them()
    {
        await using var live = Start(sampling: TailPolicies(), ingest: new IngestOptions { LogSegmentBytes = 1 });
        var early = _data.Root("web", "GET /a", status: StatusCode.Error);
        await live.IngestAsync(Tenant, [early]);
        _time.Advance(TimeSpan.FromSeconds(6));
        var later = _data.Root("web", "GET /b", status: StatusCode.Error);
        await live.IngestAsync(Tenant, [later]);
        _time.Advance(TimeSpan.FromSeconds(6));
        await live.Pipeline.RunOnceAsync(default);
        await Poll.UntilAsync(async () => (await live.Store.GetTraceAsync(Tenant, early.TraceId, default)).Count == 1);
        await live.Embedded.CutHeadAsync();
        await live.Pipeline.RunOnceAsync(default);

        // The early trace is decided and its block cut; the later one still holds the segment it arrived in.
        Assert.Equal(1, live.Sampler.BufferedTraces);
        var held = live.Segments();
        Assert.True(held.Count >= 2, string.Join(", ", held));
        Assert.DoesNotContain(held, s => s.EndsWith("0000000001.wal", StringComparison.Ordinal));

        _time.Advance(TimeSpan.FromSeconds(11));
        await live.Pipeline.RunOnceAsync(default);
        await Poll.UntilAsync(async () => (await live.Store.GetTraceAsync(Tenant, later.TraceId, default)).Count == 1);
        await live.Embedded.CutHeadAsync();
        await live.Pipeline.RunOnceAsync(default);
        Assert.Equal(0, live.Sampler.BufferedTraces);
        Assert.Single(live.Segments());
    }

    [Fact]
    public async Task A_data_directory_from_before_the_ingest_log_has_its_old_wal_and_journal_taken_into_the_log()
    {
        var directory = Directory.CreateTempSubdirectory("ariadne-legacy-").FullName;
        _directories.Add(directory);
        Ariadne.Storage.Embedded.DataDirectoryFormat.EnsureCompatible(directory);
        var stored = Trace("GET /stored");
        var held = _data.Root("web", "GET /held", status: StatusCode.Error);
        await WriteLegacyAsync(Path.Combine(directory, "wal"), w =>
        {
            SpanCodec.WriteString(w, Tenant);
            SpanCodec.WriteSpans(w, stored);
        });
        await WriteLegacyAsync(Path.Combine(directory, "tail-sampling"), w =>
        {
            SpanCodec.WriteVarint(w, 1);
            SpanCodec.WriteString(w, Tenant);
            SpanCodec.WriteSpans(w, [held]);
        });

        await using var upgraded = Start(directory, TailPolicies());
        Assert.Equal(2, (await upgraded.Store.GetTraceAsync(Tenant, stored[0].TraceId, default)).Count);
        Assert.Equal(1, upgraded.Sampler.BufferedTraces);
        Assert.False(Directory.Exists(Path.Combine(directory, "wal")));
        Assert.False(Directory.Exists(Path.Combine(directory, "tail-sampling")));
        _time.Advance(TimeSpan.FromSeconds(11));
        await upgraded.Pipeline.RunOnceAsync(default);
        await Poll.UntilAsync(async () => (await upgraded.Store.GetTraceAsync(Tenant, held.TraceId, default)).Count == 1);
    }

    [Fact]
    public async Task After_storage_fails_to_take_a_record_it_takes_no_later_one_ingest_answers_503_and_a_restart_stores_it()
    {
        var directory = Directory.CreateTempSubdirectory("ariadne-pipeline-").FullName;
        _directories.Add(directory);
        var failing = new TakeFailingStore(EmbeddedSpanStore.Open(directory, new EmbeddedStorageOptions { RowGroupSpans = 64 }, _time, NullLogger.Instance), failAt: 2);
        var first = Trace("GET /first");
        var second = Trace("GET /second");
        await using (var live = new PipelineHarness(directory, _time, store: failing))
        {
            Assert.Null((await live.IngestAsync(Tenant, first)).Unavailable);

            // Acknowledged: the record is durable in the log before storage is handed it.
            Assert.Null((await live.IngestAsync(Tenant, second)).Unavailable);
            Assert.Contains(live.Log.Lines, l => l.Contains("storage failed to take the record", StringComparison.Ordinal));

            // Taking a later record would let the engine's next cut cover the missed one; ingest is refused instead.
            var refused = await live.IngestAsync(Tenant, Trace("GET /third"));
            Assert.NotNull(refused.Unavailable);
            Assert.Contains("restart", refused.Unavailable!.Message, StringComparison.Ordinal);
            Assert.Equal(2, failing.Taken);
        }

        await using var restarted = Start(directory);
        Assert.Equal(2, (await restarted.Store.GetTraceAsync(Tenant, first[0].TraceId, default)).Count);
        Assert.Equal(2, (await restarted.Store.GetTraceAsync(Tenant, second[0].TraceId, default)).Count);
        Assert.Equal(4, restarted.Store.GetStats().Spans);
    }

    private static async Task WriteLegacyAsync(string directory, Action<System.Buffers.IBufferWriter<byte>> record)
    {
        var log = SegmentLog.Open(directory, TimeSpan.Zero);
        await log.AppendAsync(record);
        await log.DisposeAsync();
    }

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS temp cleaner.
            }
        }
    }

    /// <summary>Errors kept, the rest dropped (0 % probabilistic), 10 s decision wait.</summary>
    private static SamplingOptions TailPolicies()
    {
        var options = new SamplingOptions();
        options.Tail.DecisionWait = TimeSpan.FromSeconds(10);
        options.Tail.Policies.Add(new TailPolicyOptions { Name = "rest", Type = "probabilistic", Probabilistic = new() { Sampling_Percentage = 0 } });
        return options;
    }

    private PipelineHarness Start(string? directory = null, SamplingOptions? sampling = null, IngestOptions? ingest = null)
    {
        directory ??= Directory.CreateTempSubdirectory("ariadne-pipeline-").FullName;
        _directories.Add(directory);
        return new PipelineHarness(directory, _time, sampling, ingest);
    }

    private List<Span> Trace(string name)
    {
        var root = _data.Root("web", name);
        return [root, _data.Span(root.TraceId, "db", "SELECT", root.SpanId)];
    }

    /// <summary>The embedded engine, except that its <paramref name="failAt"/>-th Take throws, as an engine bug would.</summary>
    private sealed class TakeFailingStore(EmbeddedSpanStore inner, int failAt) : ISpanStore, ILogFedStore
    {
        public int Taken { get; private set; }

        public LogPosition DurableThrough => inner.DurableThrough;

        public string? Backlog => inner.Backlog;

        public void Take(string tenant, IReadOnlyList<Span> spans, LogPosition position)
        {
            if (++Taken == failAt)
            {
                throw new InvalidOperationException("injected engine failure");
            }

            inner.Take(tenant, spans, position);
        }

        public ValueTask AppendAsync(string tenant, IReadOnlyList<Span> spans, CancellationToken cancellationToken) => inner.AppendAsync(tenant, spans, cancellationToken);

        public ValueTask<IReadOnlyList<Span>> GetTraceAsync(string tenant, TraceId traceId, CancellationToken cancellationToken) => inner.GetTraceAsync(tenant, traceId, cancellationToken);

        public ValueTask<IReadOnlyList<string>> GetServicesAsync(string tenant, CancellationToken cancellationToken) => inner.GetServicesAsync(tenant, cancellationToken);

        public ValueTask<IReadOnlyList<OperationInfo>> GetOperationsAsync(string tenant, string service, SpanKind? kind, CancellationToken cancellationToken) =>
            inner.GetOperationsAsync(tenant, service, kind, cancellationToken);

        public ValueTask<IReadOnlyList<IReadOnlyList<Span>>> FindTracesAsync(string tenant, TraceQuery query, CancellationToken cancellationToken) =>
            inner.FindTracesAsync(tenant, query, cancellationToken);

        public ValueTask<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken) =>
            inner.GetDependenciesAsync(tenant, endTime, lookback, cancellationToken);

        public StorageStats GetStats() => inner.GetStats();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
