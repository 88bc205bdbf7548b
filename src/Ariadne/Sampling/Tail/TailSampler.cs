using System.Buffers;
using Ariadne.Model;

namespace Ariadne.Sampling.Tail;

/// <summary>
/// The tail-sampling stage of the ingest pipeline: spans are held by trace until no span has arrived for the
/// decision wait, then the policies decide. The sampler only buffers and decides; the pipeline owns what happens
/// around it. It hands the sampler spans that are already durable in the ingest log, writes each round of
/// decisions to the log, and passes the kept spans to storage; a restart rebuilds the buffer and the decision cache
/// from the log (<see cref="Pipeline.LogRecovery"/>). The client's request is never held for a decision.
/// <para>
/// With no policy configured every trace would be kept, so spans go straight to storage and nothing is held.
/// </para>
/// <para>
/// The buffer is split into shards by trace id. An ingest batch is sorted by shard (one counting pass) and each
/// shard is locked once per batch, never per span. Decided trace ids stay in a per-shard decision cache, so late
/// spans follow their trace. Over <c>MaxTraces</c> or <c>MaxBytes</c> the oldest traces are decided early, by the
/// batch that crossed the bound, which also makes ingest slow down instead of memory growing.
/// </para>
/// <para>
/// Each held trace counts against the log segment its first span came from, so the pipeline knows the oldest
/// segment a restart would still need (<see cref="OldestHeldSegment"/>).
/// </para>
/// </summary>
public sealed partial class TailSampler
{
    private const string ErrorsPolicy = "errors";
    private const string BusinessCriticalPolicy = "business_critical";

    private readonly TailSamplingOptions _options;
    private readonly IReadOnlyList<BusinessCriticalOperation> _critical;
    private readonly TailSamplingMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly Shard[] _shards;
    private readonly long _waitTicks;
    private readonly Lock _segmentsLock = new();
    private readonly SortedDictionary<long, long> _heldBySegment = [];
    private long _traces;
    private long _spans;
    private long _bytes;
    private int _evictCursor;

    public TailSampler(SamplingOptions options, TailSamplingMetrics metrics, TimeProvider time)
    {
        _options = options.Tail;
        _critical = options.BusinessCritical;
        _metrics = metrics;
        _time = time;
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
        Tick = TimeSpan.FromTicks(Math.Clamp(_options.DecisionWait.Ticks / 5, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
    }

    public IReadOnlyList<TailPolicy> Policies { get; }

    /// <summary>True when traces are held for a decision (enabled and at least one policy).</summary>
    public bool Buffering { get; }

    /// <summary>How often due traces should be decided: a fifth of the decision wait, between 10 ms and 1 s.</summary>
    public TimeSpan Tick { get; }

    public long BufferedTraces => Interlocked.Read(ref _traces);

    public long BufferedSpans => Interlocked.Read(ref _spans);

    public long BufferedBytes => Interlocked.Read(ref _bytes);

    /// <summary>The oldest log segment holding a span of an undecided trace; <see cref="long.MaxValue"/> when none is held.</summary>
    public long OldestHeldSegment
    {
        get
        {
            lock (_segmentsLock)
            {
                foreach (var (segment, count) in _heldBySegment)
                {
                    if (count > 0)
                    {
                        return segment;
                    }
                }

                return long.MaxValue;
            }
        }
    }

    /// <summary>
    /// What tail sampling did with a trace, as far as it remembers (the decision cache): held for its decision, kept,
    /// dropped, or unknown (never seen, or decided too long ago).
    /// </summary>
    public TailOutcome OutcomeOf(string tenant, TraceId traceId)
    {
        var key = new TraceKey(traceId, tenant);
        var shard = ShardFor(traceId);
        lock (shard)
        {
            return shard.Traces.ContainsKey(key) ? TailOutcome.Held
                : shard.Decisions.TryGetValue(key, out var kept) ? (kept ? TailOutcome.Kept : TailOutcome.Dropped)
                : TailOutcome.Unknown;
        }
    }

    /// <summary>
    /// Takes the spans of one batch (from log segment <paramref name="segment"/>; 0 without a log): holds them with
    /// their traces, or, for traces already decided, returns the late spans of kept ones to store now. When the
    /// buffer is over its bounds, the oldest traces are decided early and returned too.
    /// </summary>
    public TailTake Take(string tenant, IReadOnlyList<Span> spans, long segment)
    {
        var lateKept = Buffer(tenant, spans, segment);
        return new TailTake(lateKept, OverBound() ? DecideOldest() : null);
    }

    /// <summary>Decides every trace whose decision wait is over.</summary>
    public DecidedTraces DecideDue() => Decide(_time.GetTimestamp() - _waitTicks);

    /// <summary>Decides every held trace now (a stop with no log to hold them).</summary>
    public DecidedTraces DecideAll() => Decide(long.MaxValue);

    /// <summary>Puts a decision read back from the log into the decision cache, so late spans follow it after a restart.</summary>
    public void Remember(string tenant, TraceId traceId, bool kept)
    {
        var shard = ShardFor(traceId);
        lock (shard)
        {
            shard.Remember(new TraceKey(traceId, tenant), kept);
        }
    }

    /// <summary>Adds a batch's spans to their traces; returns the late spans of traces already kept.</summary>
    private List<Span>? Buffer(string tenant, IReadOnlyList<Span> spans, long segment)
    {
        var now = _time.GetTimestamp();
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
            CountHeld(segment, newTraces);
            if (lateKeptCount + lateDropped > 0)
            {
                _metrics.RecordLateSpans(lateKeptCount, lateDropped);
            }

            return lateKept;
        }
        finally
        {
            ArrayPool<Span>.Shared.Return(order, clearArray: true);
            ArrayPool<int>.Shared.Return(shardOf);
        }
    }

    /// <summary>
    /// Decides down to a low-water mark, a shard's oldest traces per lock, so that a full buffer costs one round of
    /// early decisions per many batches instead of a few traces on every batch. Taking each shard's oldest in turn is
    /// close to global arrival order without a global structure on the hot path.
    /// </summary>
    private DecidedTraces DecideOldest()
    {
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
        return decided;
    }

    private bool OverBound() => Interlocked.Read(ref _traces) > _options.MaxTraces || Interlocked.Read(ref _bytes) > _options.MaxBytes;

    /// <summary>
    /// Decides the traces whose last span arrived before the given timestamp. Each shard's due traces are decided
    /// under its lock, so a span arriving meanwhile finds either the trace or its cached decision, never neither.
    /// </summary>
    private DecidedTraces Decide(long lastSpanBefore)
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

        _metrics.SetBuffered(this);
        return decided;
    }

    private void DecideLocked(Shard shard, BufferedTrace trace, DecidedTraces decided)
    {
        var key = new TraceKey(trace.TraceId, trace.Tenant);
        shard.Traces.Remove(key);
        trace.Decided = true;
        Interlocked.Decrement(ref _traces);
        Interlocked.Add(ref _spans, -trace.Spans.Count);
        Interlocked.Add(ref _bytes, -trace.Bytes);
        CountHeld(trace.FirstSegment, -1);

        var view = new TraceView(trace.Tenant, trace.TraceId, trace.Spans);
        var keptBy = Decide(view);
        _metrics.RecordDecision(view, keptBy);
        shard.Remember(key, keptBy is not null);
        decided.Add(trace.Tenant, trace.TraceId, keptBy is not null ? trace.Spans : null, trace.FirstSegment);
    }

    private void CountHeld(long segment, long delta)
    {
        if (delta == 0)
        {
            return;
        }

        lock (_segmentsLock)
        {
            // A trace can be decided (early, by another batch) before the batch that buffered it has counted it:
            // the count may dip below zero for a moment, so only positive counts hold a segment.
            var count = _heldBySegment.GetValueOrDefault(segment) + delta;
            if (count == 0)
            {
                _heldBySegment.Remove(segment);
            }
            else
            {
                _heldBySegment[segment] = count;
            }
        }
    }

    private Shard ShardFor(TraceId traceId) => _shards[ShardOf(traceId) & (_shards.Length - 1)];

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

        /// <summary>The log segment of the first span (0 without a log).</summary>
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

/// <summary>What one batch did in the sampler: late spans of kept traces to store now, and early decisions, if any.</summary>
public readonly record struct TailTake(List<Span>? LateKept, DecidedTraces? Early);

/// <summary>
/// One round of decisions: each trace's outcome, and the spans of the kept ones by tenant (for storage), with the
/// oldest log segment any of them came from (the log keeps it until the decisions and the kept spans are safe).
/// </summary>
public sealed class DecidedTraces
{
    public Dictionary<string, List<Span>> KeptByTenant { get; } = new(StringComparer.Ordinal);

    public List<(string Tenant, TraceId TraceId, bool Kept)> Decisions { get; } = [];

    public long OldestSegment { get; private set; } = long.MaxValue;

    public int Count => Decisions.Count;

    /// <param name="keptSpans">The trace's spans when kept; null when dropped.</param>
    public void Add(string tenant, TraceId traceId, List<Span>? keptSpans, long segment)
    {
        if (keptSpans is not null)
        {
            if (!KeptByTenant.TryGetValue(tenant, out var spans))
            {
                KeptByTenant[tenant] = spans = [];
            }

            spans.AddRange(keptSpans);
        }

        Decisions.Add((tenant, traceId, keptSpans is not null));
        OldestSegment = Math.Min(OldestSegment, segment);
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
