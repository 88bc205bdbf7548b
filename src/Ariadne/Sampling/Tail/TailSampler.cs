using System.Buffers;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.Embedded.Wal;

namespace Ariadne.Sampling.Tail;

/// <summary>
/// The tail-sampling stage of the ingest pipeline. Spans are held by trace until no span has arrived for the
/// decision wait, then the policies decide, and kept traces are appended to storage. The client's request is
/// answered as soon as its spans are in the buffer: nothing on the ingest path waits for a decision.
/// <para>
/// With no policy configured every trace would be kept, so spans go straight to storage and nothing is held.
/// </para>
/// <para>
/// With a durable storage engine, held spans are also appended to a <see cref="TailJournal"/> before the request
/// is answered, and each decision after its kept spans are stored: a crash loses no acknowledged span, and a
/// restart decides the traces that were still held (after a new decision wait).
/// </para>
/// <para>
/// The buffer is split into shards by trace id. An ingest batch is sorted by shard (one counting pass) and each
/// shard is locked once per batch, never per span. Decided trace ids stay in a per-shard decision cache, so late
/// spans follow their trace. Over <c>MaxTraces</c> or <c>MaxBytes</c> the oldest traces are decided early, by the
/// ingest request that crossed the bound, which also makes ingest slow down instead of memory growing.
/// </para>
/// </summary>
public sealed partial class TailSampler : IHostedService, IAsyncDisposable
{
    private const string ErrorsPolicy = "errors";
    private const string BusinessCriticalPolicy = "business_critical";

    /// <summary>Rounds of kept traces held for another try while storage refuses them.</summary>
    private const int MaxUnstoredRounds = 1000;

    private readonly TailSamplingOptions _options;
    private readonly IReadOnlyList<BusinessCriticalOperation> _critical;
    private readonly ISpanStore _store;
    private readonly TailSamplingMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<TailSampler> _logger;
    private readonly string? _journalDirectory;
    private readonly Shard[] _shards;
    private readonly long _waitTicks;
    private readonly TimeSpan _tick;
    private readonly CancellationTokenSource _stopping = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<DecidedTraces> _unstored = new();
    private Task? _loop;
    private TailJournal? _journal;
    private long _traces;
    private long _spans;
    private long _bytes;
    private int _evictCursor;

    /// <param name="journalDirectory">Where held spans are journaled; null when storage is not durable either (memory).</param>
    public TailSampler(SamplingOptions options, ISpanStore store, TailSamplingMetrics metrics, TimeProvider time, ILogger<TailSampler> logger, string? journalDirectory = null)
    {
        _journalDirectory = journalDirectory;
        _options = options.Tail;
        _critical = options.BusinessCritical;
        _store = store;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        var errors = new List<string>();
        Policies = TailPolicyFactory.Build(_options.Policies, "Sampling:Tail:Policies", time, errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
        }

        Buffering = _options.Enabled && Policies.Count > 0;
        var shardCount = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, _options.Shards));
        var cachePerShard = Math.Max(16, _options.DecisionCacheSize / shardCount);
        _shards = Enumerable.Range(0, shardCount).Select(_ => new Shard(cachePerShard)).ToArray();
        _waitTicks = (long)(_options.DecisionWait.TotalSeconds * time.TimestampFrequency);
        _tick = TimeSpan.FromTicks(Math.Clamp(_options.DecisionWait.Ticks / 5, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
    }

    public IReadOnlyList<TailPolicy> Policies { get; }

    /// <summary>True when traces are held for a decision (enabled and at least one policy).</summary>
    public bool Buffering { get; }

    public long BufferedTraces => Interlocked.Read(ref _traces);

    /// <summary>
    /// What tail sampling did with a trace, as far as it remembers (the decision cache): held for its decision, kept,
    /// dropped, or unknown (never seen, or decided too long ago).
    /// </summary>
    public TailOutcome OutcomeOf(string tenant, TraceId traceId)
    {
        var key = new TraceKey(traceId, tenant);
        var shard = _shards[ShardOf(traceId) & (_shards.Length - 1)];
        lock (shard)
        {
            return shard.Traces.ContainsKey(key) ? TailOutcome.Held
                : shard.Decisions.TryGetValue(key, out var kept) ? (kept ? TailOutcome.Kept : TailOutcome.Dropped)
                : TailOutcome.Unknown;
        }
    }

    public long BufferedSpans => Interlocked.Read(ref _spans);

    public long BufferedBytes => Interlocked.Read(ref _bytes);

    /// <summary>Bytes of the journal on disk (0 without one).</summary>
    public long JournalBytes => _journal?.Bytes ?? 0;

    /// <summary>Takes the accepted spans of one request: stores them now, or holds them for a decision.</summary>
    public ValueTask SubmitAsync(string tenant, List<Span> spans, CancellationToken cancellationToken)
    {
        if (!Buffering)
        {
            return _store.AppendAsync(tenant, spans, cancellationToken);
        }

        var journal = _journal;
        var (lateKept, held) = Buffer(tenant, spans, journal);
        var durable = journal is not null && held.Count > 0 ? journal.AppendSpansAsync(tenant, held) : null;
        if (lateKept is null && !OverBound())
        {
            return durable is null ? ValueTask.CompletedTask : new ValueTask(durable);
        }

        return StoreLateAndEvictAsync(tenant, lateKept, durable, cancellationToken);
    }

    /// <summary>Opens the journal (deciding again what a crashed run held) and starts the decision loop.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_journalDirectory is not null && (Buffering || WriteAheadLog.ListSegments(_journalDirectory).Count > 0))
        {
            await RecoverAsync(_journalDirectory, cancellationToken);
        }

        if (Buffering)
        {
            _loop = Task.Run(() => DecideLoopAsync(_stopping.Token), CancellationToken.None);
        }
    }

    /// <summary>On shutdown every held trace is decided now, so a clean stop loses nothing the policies would keep.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loop is not null)
        {
            await _stopping.CancelAsync();
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _loop = null;
            await RetryUnstoredAsync(cancellationToken);
            await DecideAsync(long.MaxValue, cancellationToken);
        }

        if (_journal is { } journal)
        {
            _journal = null;
            journal.Checkpoint();
            await journal.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
    }

    /// <summary>
    /// Decides every trace whose decision wait is over, then lets the journal drop the segments no held trace needs
    /// (the background loop calls this on each tick).
    /// </summary>
    internal async Task DecideDueAsync(CancellationToken cancellationToken)
    {
        await RetryUnstoredAsync(cancellationToken);
        await DecideAsync(_time.GetTimestamp() - _waitTicks, cancellationToken);
        _journal?.Checkpoint();
    }

    /// <summary>
    /// Adds a request's spans to their traces. Returns the late spans of traces already kept (to store now) and the
    /// spans now held (to journal: the request's list itself unless some were late).
    /// </summary>
    private (List<Span>? LateKept, List<Span> Held) Buffer(string tenant, List<Span> spans, TailJournal? journal)
    {
        var now = _time.GetTimestamp();
        var segment = journal?.CurrentSegment ?? 0;
        var mask = _shards.Length - 1;
        var count = spans.Count;
        var order = ArrayPool<Span>.Shared.Rent(count);
        Span<int> starts = stackalloc int[_shards.Length + 1];
        starts.Clear();
        var shardOf = ArrayPool<int>.Shared.Rent(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var shard = ShardOf(spans[i].TraceId) & mask;
                shardOf[i] = shard;
                starts[shard + 1]++;
            }

            for (var s = 1; s <= _shards.Length; s++)
            {
                starts[s] += starts[s - 1];
            }

            Span<int> next = stackalloc int[_shards.Length];
            starts[.._shards.Length].CopyTo(next);
            for (var i = 0; i < count; i++)
            {
                order[next[shardOf[i]]++] = spans[i];
            }

            List<Span>? lateKept = null;
            var late = false;
            long newTraces = 0, addedSpans = 0, addedBytes = 0, lateKeptCount = 0, lateDropped = 0;
            for (var s = 0; s < _shards.Length; s++)
            {
                if (starts[s] == starts[s + 1])
                {
                    continue;
                }

                var shard = _shards[s];
                lock (shard)
                {
                    for (var i = starts[s]; i < starts[s + 1]; i++)
                    {
                        var span = order[i];
                        var key = new TraceKey(span.TraceId, tenant);
                        if (shard.Traces.TryGetValue(key, out var trace))
                        {
                            trace.Add(span, now, ref addedBytes);
                            addedSpans++;
                        }
                        else if (shard.Decisions.TryGetValue(key, out var kept))
                        {
                            late = true;
                            if (kept)
                            {
                                (lateKept ??= []).Add(span);
                                lateKeptCount++;
                            }
                            else
                            {
                                lateDropped++;
                            }
                        }
                        else
                        {
                            trace = new BufferedTrace(tenant, span.TraceId, now, segment);
                            trace.Add(span, now, ref addedBytes);
                            shard.Traces.Add(key, trace);
                            shard.Arrivals.Enqueue(trace);
                            newTraces++;
                            addedSpans++;
                        }
                    }
                }
            }

            Interlocked.Add(ref _traces, newTraces);
            Interlocked.Add(ref _spans, addedSpans);
            Interlocked.Add(ref _bytes, addedBytes);
            journal?.Opened(segment, newTraces);
            if (!late)
            {
                return (null, spans);
            }

            _metrics.RecordLateSpans(lateKeptCount, lateDropped);
            return (lateKept, HeldSpans(tenant, spans));
        }
        finally
        {
            ArrayPool<Span>.Shared.Return(order, clearArray: true);
            ArrayPool<int>.Shared.Return(shardOf);
        }
    }

    /// <summary>The spans of a request whose trace is held (not decided), for the journal; rare, so not on the fast path.</summary>
    private List<Span> HeldSpans(string tenant, List<Span> spans)
    {
        var held = new List<Span>(spans.Count);
        foreach (var span in spans)
        {
            var shard = _shards[ShardOf(span.TraceId) & (_shards.Length - 1)];
            lock (shard)
            {
                if (shard.Traces.ContainsKey(new TraceKey(span.TraceId, tenant)))
                {
                    held.Add(span);
                }
            }
        }

        return held;
    }

    private async ValueTask StoreLateAndEvictAsync(string tenant, List<Span>? lateKept, Task? durable, CancellationToken cancellationToken)
    {
        if (lateKept is not null)
        {
            await _store.AppendAsync(tenant, lateKept, cancellationToken);
        }

        if (durable is not null)
        {
            await durable;
        }

        if (!OverBound())
        {
            return;
        }

        // Decide down to a low-water mark, a shard's oldest traces per lock, so that a full buffer costs one round of
        // early decisions per many requests instead of a few traces on every request. Taking each shard's oldest in
        // turn is close to global arrival order without a global structure on the hot path.
        var decided = new DecidedTraces();
        var lowTraces = _options.MaxTraces - Math.Max(1, _options.MaxTraces / 50);
        var lowBytes = _options.MaxBytes - Math.Max(1, _options.MaxBytes / 50);
        var perShard = Math.Max(1, (int)((BufferedTraces - lowTraces) / _shards.Length) + 1);
        var evicted = 0;
        for (var visits = 0; visits < _shards.Length * 4 && (BufferedTraces > lowTraces || BufferedBytes > lowBytes); visits++)
        {
            var shard = _shards[(Interlocked.Increment(ref _evictCursor) & int.MaxValue) % _shards.Length];
            lock (shard)
            {
                for (var taken = 0; taken < perShard && shard.Arrivals.TryDequeue(out var oldest);)
                {
                    if (!oldest.Decided)
                    {
                        DecideLocked(shard, oldest, decided);
                        taken++;
                        evicted++;
                    }
                }
            }
        }

        _metrics.RecordEarlyDecisions(evicted);
        await StoreAsync(decided, cancellationToken);
    }

    private bool OverBound() => Interlocked.Read(ref _traces) > _options.MaxTraces || Interlocked.Read(ref _bytes) > _options.MaxBytes;

    private async Task DecideLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_tick, _time, cancellationToken);
                await DecideDueAsync(cancellationToken);
                _metrics.SetBuffered(this);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Storage failing must not stop decisions; the next tick stores what it refused, then decides what is due.
                _logger.LogError(e, "Tail sampling could not store decided traces");
            }
        }
    }

    /// <summary>
    /// Decides the traces whose last span arrived before the given timestamp. Each shard's due traces are decided
    /// under its lock, so a span arriving meanwhile finds either the trace or its cached decision, never neither.
    /// </summary>
    private async Task DecideAsync(long lastSpanBefore, CancellationToken cancellationToken)
    {
        var decided = new DecidedTraces();
        var due = new List<BufferedTrace>();
        foreach (var shard in _shards)
        {
            lock (shard)
            {
                due.Clear();
                foreach (var trace in shard.Traces.Values)
                {
                    if (trace.LastSeen <= lastSpanBefore)
                    {
                        due.Add(trace);
                    }
                }

                foreach (var trace in due)
                {
                    DecideLocked(shard, trace, decided);
                }

                shard.CompactArrivals();
            }
        }

        await StoreAsync(decided, cancellationToken);
    }

    private void DecideLocked(Shard shard, BufferedTrace trace, DecidedTraces decided)
    {
        var key = new TraceKey(trace.TraceId, trace.Tenant);
        shard.Traces.Remove(key);
        trace.Decided = true;
        Interlocked.Decrement(ref _traces);
        Interlocked.Add(ref _spans, -trace.Spans.Count);
        Interlocked.Add(ref _bytes, -trace.Bytes);

        var view = new TraceView(trace.Tenant, trace.TraceId, trace.Spans);
        var keptBy = Decide(view);
        _metrics.RecordDecision(view, keptBy);
        shard.Remember(key, keptBy is not null);
        decided.Add(trace, keptBy is not null, _journal is not null);
        trace.Spans.Clear();
    }

    /// <summary>
    /// Stores the kept traces; then, with a journal, records the decisions and releases the traces' segments. If
    /// storing fails the segments stay, so a restart decides those traces again instead of losing them.
    /// </summary>
    private async Task StoreAsync(DecidedTraces decided, CancellationToken cancellationToken)
    {
        try
        {
            await StoreOnceAsync(decided, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Storage is down (a full disk, ClickHouse away): the kept traces wait for the next tick instead of
            // being lost; past the bound they are left to the journal, which a restart replays.
            if (_unstored.Count < MaxUnstoredRounds)
            {
                _unstored.Enqueue(decided);
            }
            else
            {
                LogUnstoredDropped(_logger, decided.KeptByTenant.Values.Sum(s => s.Count), _journal is not null ? "the journal keeps them until a restart" : "they are lost");
            }

            throw;
        }
    }

    /// <summary>Stores what one round kept, tenant by tenant (a stored tenant is not stored again on retry), then records the decisions.</summary>
    private async Task StoreOnceAsync(DecidedTraces decided, CancellationToken cancellationToken)
    {
        foreach (var tenant in decided.KeptByTenant.Keys.ToList())
        {
            await _store.AppendAsync(tenant, decided.KeptByTenant[tenant], cancellationToken);
            decided.KeptByTenant.Remove(tenant);
        }

        if (_journal is { } journal && decided.Decisions.Count > 0)
        {
            await journal.AppendDecisionsAsync(decided.Decisions);
            journal.Closed(decided.TracesBySegment);
        }
    }

    /// <summary>Stores the rounds that storage refused earlier, oldest first; stops at the first that fails again.</summary>
    private async Task RetryUnstoredAsync(CancellationToken cancellationToken)
    {
        while (_unstored.TryPeek(out var decided))
        {
            await StoreOnceAsync(decided, cancellationToken);
            _unstored.TryDequeue(out _);
        }
    }

    /// <summary>
    /// Takes back what a crashed run held: its decisions are remembered (late spans follow them), its undecided
    /// traces are held again (journaled anew) or, with tail sampling now off, stored; then the old segments go.
    /// </summary>
    private async Task RecoverAsync(string directory, CancellationToken cancellationToken)
    {
        var (journal, recovered) = TailJournal.Open(directory, TimeSpan.Zero);
        var firstNewSegment = journal.CurrentSegment;
        foreach (var problem in recovered.Problems)
        {
            LogTornRecord(_logger, problem);
        }

        foreach (var ((tenant, traceId), kept) in recovered.Decisions)
        {
            var shard = _shards[ShardOf(traceId) & (_shards.Length - 1)];
            lock (shard)
            {
                shard.Remember(new TraceKey(traceId, tenant), kept);
            }
        }

        _journal = Buffering ? journal : null;
        var spans = 0;
        foreach (var byTenant in recovered.Undecided.GroupBy(t => t.Tenant, StringComparer.Ordinal))
        {
            var batch = byTenant.SelectMany(t => t.Spans).ToList();
            spans += batch.Count;
            if (Buffering)
            {
                await SubmitAsync(byTenant.Key, batch, cancellationToken);
            }
            else
            {
                await _store.AppendAsync(byTenant.Key, batch, cancellationToken);
            }
        }

        if (Buffering)
        {
            journal.DeleteBefore(firstNewSegment);
        }
        else
        {
            await journal.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }

        if (recovered.SpanRecords > 0)
        {
            LogRecovered(_logger, recovered.Undecided.Count, spans, recovered.Decisions.Count, Buffering ? "held again for a decision" : "stored (tail sampling is off now)");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tail-sampling journal: {Traces} undecided traces ({Spans} spans) from before the restart {Outcome}; {Decisions} earlier decisions remembered.")]
    private static partial void LogRecovered(ILogger logger, int traces, int spans, int decisions, string outcome);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tail sampling: storage has refused kept traces for too long; {Spans} more kept spans are not retried now, and {Outcome}.")]
    private static partial void LogUnstoredDropped(ILogger logger, int spans, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tail-sampling journal replay: {Problem}. Such a record was never acknowledged to a client.")]
    private static partial void LogTornRecord(ILogger logger, string problem);

    /// <summary>The name of the policy that keeps the trace, or null to drop it.</summary>
    private string? Decide(TraceView trace)
    {
        if (_options.AlwaysKeepErrors)
        {
            foreach (var span in trace.Spans)
            {
                if (span.IsError)
                {
                    return ErrorsPolicy;
                }
            }
        }

        if (_critical.Count > 0)
        {
            foreach (var span in trace.Spans)
            {
                foreach (var critical in _critical)
                {
                    if (critical.Matches(span.ServiceName, span.Name))
                    {
                        return BusinessCriticalPolicy;
                    }
                }
            }
        }

        // The collector's rule: an inverted match that matched vetoes; otherwise any keep wins, and an inverted
        // non-match keeps unless some policy said no.
        string? sampledBy = null, invertSampledBy = null;
        bool vetoed = false, anyNotSampled = false;
        foreach (var policy in Policies)
        {
            var decision = policy.Evaluate(trace);
            _metrics.RecordPolicyEvaluation(policy.Name, decision);
            switch (decision)
            {
                case PolicyDecision.Sampled:
                    sampledBy ??= policy.Name;
                    break;
                case PolicyDecision.InvertSampled:
                    invertSampledBy ??= policy.Name;
                    break;
                case PolicyDecision.InvertNotSampled:
                    vetoed = true;
                    break;
                default:
                    anyNotSampled = true;
                    break;
            }
        }

        if (vetoed)
        {
            return null;
        }

        return sampledBy ?? (anyNotSampled ? null : invertSampledBy);
    }

    /// <summary>A 64-bit mix of the trace id: ids from some SDKs are not random in every bit.</summary>
    private static int ShardOf(TraceId id)
    {
        var h = id.Low ^ id.High;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        return (int)h;
    }

    private readonly record struct TraceKey(TraceId TraceId, string Tenant);

    private sealed class BufferedTrace(string tenant, TraceId traceId, long now, long firstSegment)
    {
        public string Tenant { get; } = tenant;

        public TraceId TraceId { get; } = traceId;

        /// <summary>The journal segment that was current when the first span arrived (0 without a journal).</summary>
        public long FirstSegment { get; } = firstSegment;

        public List<Span> Spans { get; } = new(8);

        public long LastSeen { get; private set; } = now;

        public long Bytes { get; private set; }

        public bool Decided { get; set; }

        public void Add(Span span, long now, ref long addedBytes)
        {
            Spans.Add(span);
            LastSeen = now;
            var size = EstimateSize(span);
            Bytes += size;
            addedBytes += size;
        }

        /// <summary>A cheap estimate of a span's heap footprint; the byte bound is about memory, not exact accounting.</summary>
        private static long EstimateSize(Span span) =>
            200 + (2L * (span.Name.Length + span.StatusMessage.Length + span.TraceState.Length))
            + (48L * span.Attributes.Length) + (72L * span.Events.Length) + (64L * span.Links.Length);
    }

    /// <summary>What one round of decisions produced: the kept spans by tenant and, with a journal, what to record.</summary>
    private sealed class DecidedTraces
    {
        public Dictionary<string, List<Span>> KeptByTenant { get; } = new(StringComparer.Ordinal);

        public List<(string Tenant, TraceId TraceId, bool Kept)> Decisions { get; } = [];

        public Dictionary<long, long> TracesBySegment { get; } = [];

        public void Add(BufferedTrace trace, bool kept, bool journaled)
        {
            if (kept)
            {
                if (!KeptByTenant.TryGetValue(trace.Tenant, out var spans))
                {
                    KeptByTenant[trace.Tenant] = spans = [];
                }

                spans.AddRange(trace.Spans);
            }

            if (journaled)
            {
                Decisions.Add((trace.Tenant, trace.TraceId, kept));
                TracesBySegment[trace.FirstSegment] = TracesBySegment.GetValueOrDefault(trace.FirstSegment) + 1;
            }
        }
    }

    private sealed class Shard(int decisionCapacity)
    {
        public Dictionary<TraceKey, BufferedTrace> Traces { get; } = [];

        /// <summary>Traces in order of their first span, for deciding the oldest first when over the bound.</summary>
        public Queue<BufferedTrace> Arrivals { get; } = new();

        public Dictionary<TraceKey, bool> Decisions { get; } = [];

        private readonly Queue<TraceKey> _decisionOrder = new();

        public void Remember(TraceKey key, bool kept)
        {
            if (Decisions.TryAdd(key, kept))
            {
                _decisionOrder.Enqueue(key);
                if (_decisionOrder.Count > decisionCapacity)
                {
                    Decisions.Remove(_decisionOrder.Dequeue());
                }
            }
        }

        /// <summary>Drops decided traces from the front of the arrival queue, and rebuilds it when stale ones pile up behind a long-lived trace.</summary>
        public void CompactArrivals()
        {
            while (Arrivals.TryPeek(out var head) && head.Decided)
            {
                Arrivals.Dequeue();
            }

            if (Arrivals.Count > (2 * Traces.Count) + 1024)
            {
                var live = Arrivals.Where(t => !t.Decided).ToList();
                Arrivals.Clear();
                foreach (var trace in live)
                {
                    Arrivals.Enqueue(trace);
                }
            }
        }
    }
}

/// <summary>What tail sampling did with a trace (<see cref="TailSampler.OutcomeOf"/>).</summary>
public enum TailOutcome
{
    Unknown,
    Held,
    Kept,
    Dropped,
}
