using Ariadne.Model;
using Ariadne.Sampling;
using Ariadne.Sampling.Tail;
using Ariadne.Storage;
using Ariadne.Storage.Memory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace Ariadne.Tests.Sampling;

/// <summary>
/// The tail sampler's journal: spans held for a decision when the process dies are decided after the restart, by
/// the same policies; decisions made before the crash hold; the journal shrinks as traces are decided. A crash is
/// a sampler abandoned without <see cref="TailSampler.StopAsync"/>, as SIGKILL leaves it (the real-process test is
/// in CrashRecoveryTests).
/// </summary>
public sealed class TailJournalTests : IDisposable
{
    private const string Tenant = "shop";
    private readonly string _directory = Directory.CreateTempSubdirectory("ariadne-tail-journal-").FullName;
    private readonly TestDecidesClock _time = new();
    private readonly SamplingTestData _data = new(21);
    private readonly List<TailSampler> _crashed = [];

    [Fact]
    public async Task Traces_held_at_a_crash_are_decided_after_the_restart_by_the_same_policies()
    {
        var error = _data.Root("web", "GET /", status: StatusCode.Error);
        var errorChild = _data.Span(error.TraceId, "db", "SELECT", error.SpanId);
        var fast = _data.Root("web", "GET /");
        var crashed = await StartAsync(new MemorySpanStore(1000));
        await crashed.SubmitAsync(Tenant, [error, errorChild, fast], CancellationToken.None);
        Crash(crashed);

        var store = new MemorySpanStore(1000);
        await using var restarted = await StartAsync(store);
        Assert.Equal(2, restarted.BufferedTraces);
        Assert.Empty(await store.GetTraceAsync(Tenant, error.TraceId, CancellationToken.None));

        _time.Advance(TimeSpan.FromSeconds(11));
        await restarted.DecideDueAsync(CancellationToken.None);
        Assert.Equal(2, (await store.GetTraceAsync(Tenant, error.TraceId, CancellationToken.None)).Count);
        Assert.Empty(await store.GetTraceAsync(Tenant, fast.TraceId, CancellationToken.None));
        Assert.Single(Segments());
    }

    [Fact]
    public async Task Traces_decided_before_a_crash_are_not_decided_again_and_late_spans_follow_them()
    {
        // A bound of one trace makes the request decide both traces at once (early), between two journal checkpoints.
        var kept = _data.Root("web", "GET /", status: StatusCode.Error);
        var dropped = _data.Root("web", "GET /");
        var firstStore = new MemorySpanStore(1000);
        var crashed = await StartAsync(firstStore, maxTraces: 1);
        await crashed.SubmitAsync(Tenant, [kept, dropped], CancellationToken.None);
        Assert.Single(await firstStore.GetTraceAsync(Tenant, kept.TraceId, CancellationToken.None));
        Crash(crashed);

        var store = new MemorySpanStore(1000);
        await using var restarted = await StartAsync(store);
        Assert.Equal(0, restarted.BufferedTraces);
        Assert.Empty(await store.GetTraceAsync(Tenant, kept.TraceId, CancellationToken.None));

        await restarted.SubmitAsync(Tenant, [_data.Span(kept.TraceId, "db", "SELECT", kept.SpanId), _data.Span(dropped.TraceId, "db", "SELECT", dropped.SpanId)], CancellationToken.None);
        Assert.Single(await store.GetTraceAsync(Tenant, kept.TraceId, CancellationToken.None));
        Assert.Empty(await store.GetTraceAsync(Tenant, dropped.TraceId, CancellationToken.None));
        Assert.Equal(0, restarted.BufferedTraces);
    }

    [Fact]
    public async Task Segments_are_deleted_once_no_held_trace_needs_them()
    {
        var store = new MemorySpanStore(1000);
        await using var sampler = await StartAsync(store);
        var early = _data.Root("web", "GET /a");
        await sampler.SubmitAsync(Tenant, [early], CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(6));
        await sampler.DecideDueAsync(CancellationToken.None);
        var later = _data.Root("web", "GET /b");
        await sampler.SubmitAsync(Tenant, [later], CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(6));
        await sampler.DecideDueAsync(CancellationToken.None);

        // The early trace is decided; the later one still needs the segment it arrived in, and nothing before it.
        Assert.Equal(1, sampler.BufferedTraces);
        Assert.Equal(2, Segments().Count);
        _time.Advance(TimeSpan.FromSeconds(6));
        await sampler.DecideDueAsync(CancellationToken.None);
        Assert.Equal(0, sampler.BufferedTraces);
        Assert.Single(Segments());
    }

    [Fact]
    public async Task With_tail_sampling_switched_off_what_was_held_is_stored_and_the_journal_removed()
    {
        var error = _data.Root("web", "GET /", status: StatusCode.Error);
        var fast = _data.Root("web", "GET /");
        var crashed = await StartAsync(new MemorySpanStore(1000));
        await crashed.SubmitAsync(Tenant, [error, fast], CancellationToken.None);
        Crash(crashed);

        var store = new MemorySpanStore(1000);
        await using var restarted = await StartAsync(store, policies: false);
        Assert.Single(await store.GetTraceAsync(Tenant, error.TraceId, CancellationToken.None));
        Assert.Single(await store.GetTraceAsync(Tenant, fast.TraceId, CancellationToken.None));
        Assert.False(Directory.Exists(_directory));
    }

    [Fact]
    public async Task A_torn_record_at_the_end_is_dropped_and_everything_before_it_recovered()
    {
        var first = _data.Root("web", "GET /", status: StatusCode.Error);
        var crashed = await StartAsync(new MemorySpanStore(1000));
        await crashed.SubmitAsync(Tenant, [first], CancellationToken.None);
        Crash(crashed);
        await using (var file = new FileStream(Segments()[^1], FileMode.Append))
        {
            file.Write([200, 0, 0, 0, 1, 2, 3, 4, 5]);
        }

        var store = new MemorySpanStore(1000);
        await using var restarted = await StartAsync(store);
        Assert.Equal(1, restarted.BufferedTraces);
        _time.Advance(TimeSpan.FromSeconds(11));
        await restarted.DecideDueAsync(CancellationToken.None);
        Assert.Single(await store.GetTraceAsync(Tenant, first.TraceId, CancellationToken.None));
    }

    [Fact]
    public async Task Kept_traces_that_storage_refused_are_stored_on_the_next_round_once_and_their_segment_kept_till_then()
    {
        var store = new RefusingStore(new MemorySpanStore(1000));
        await using var sampler = await StartAsync(store);
        var error = _data.Root("web", "GET /", status: StatusCode.Error);
        await sampler.SubmitAsync(Tenant, [error], CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(11));

        store.Refusing = true;
        await Assert.ThrowsAsync<StorageUnavailableException>(() => sampler.DecideDueAsync(CancellationToken.None));
        Assert.Equal(0, sampler.BufferedTraces);
        Assert.Contains(Segments(), path => path.EndsWith("0000000001.wal", StringComparison.Ordinal));
        Assert.Empty(await store.Inner.GetTraceAsync(Tenant, error.TraceId, CancellationToken.None));

        store.Refusing = false;
        await sampler.DecideDueAsync(CancellationToken.None);
        Assert.Single(await store.Inner.GetTraceAsync(Tenant, error.TraceId, CancellationToken.None));
        await sampler.DecideDueAsync(CancellationToken.None);
        Assert.Single(await store.Inner.GetTraceAsync(Tenant, error.TraceId, CancellationToken.None));
        Assert.Single(Segments());
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private List<string> Segments() => Directory.GetFiles(_directory, "*.wal").Order(StringComparer.Ordinal).ToList();

    /// <summary>Keep errors, drop the rest (0% probabilistic), 10 s decision wait; the journal in the test directory.</summary>
    private async Task<TailSampler> StartAsync(ISpanStore store, bool policies = true, int maxTraces = 50_000)
    {
        var options = new SamplingOptions();
        options.Tail.DecisionWait = TimeSpan.FromSeconds(10);
        options.Tail.MaxTraces = maxTraces;
        if (policies)
        {
            options.Tail.Policies.Add(new TailPolicyOptions { Name = "rest", Type = "probabilistic", Probabilistic = new() { Sampling_Percentage = 0 } });
        }

        var sampler = new TailSampler(options, store, new TailSamplingMetrics(Metrics.NewCustomRegistry()), _time, NullLogger<TailSampler>.Instance, _directory);
        await sampler.StartAsync(CancellationToken.None);
        return sampler;
    }

    /// <summary>The memory engine behind a switch that makes appends fail as a full disk or an unreachable ClickHouse does.</summary>
    private sealed class RefusingStore(MemorySpanStore inner) : ISpanStore
    {
        public MemorySpanStore Inner => inner;

        public bool Refusing { get; set; }

        public ValueTask AppendAsync(string tenant, IReadOnlyList<Span> spans, CancellationToken cancellationToken) =>
            Refusing ? throw new StorageUnavailableException("storage refuses writes (test)") : inner.AppendAsync(tenant, spans, cancellationToken);

        public ValueTask<IReadOnlyList<Span>> GetTraceAsync(string tenant, TraceId traceId, CancellationToken cancellationToken) => inner.GetTraceAsync(tenant, traceId, cancellationToken);

        public ValueTask<IReadOnlyList<string>> GetServicesAsync(string tenant, CancellationToken cancellationToken) => inner.GetServicesAsync(tenant, cancellationToken);

        public ValueTask<IReadOnlyList<OperationInfo>> GetOperationsAsync(string tenant, string service, SpanKind? kind, CancellationToken cancellationToken) =>
            inner.GetOperationsAsync(tenant, service, kind, cancellationToken);

        public ValueTask<IReadOnlyList<IReadOnlyList<Span>>> FindTracesAsync(string tenant, TraceQuery query, CancellationToken cancellationToken) => inner.FindTracesAsync(tenant, query, cancellationToken);

        public ValueTask<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken) =>
            inner.GetDependenciesAsync(tenant, endTime, lookback, cancellationToken);

        public StorageStats GetStats() => inner.GetStats();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>A fake clock whose timers never fire: the sampler's own decision loop never runs, only the test decides.</summary>
    private sealed class TestDecidesClock : FakeTimeProvider
    {
        public override System.Threading.ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            base.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The process dies: the sampler is never stopped (kept referenced until the test ends), its journal left as it is on disk.</summary>
    private void Crash(TailSampler sampler) => _crashed.Add(sampler);
}
