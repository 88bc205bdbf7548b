using System.Collections.Concurrent;
using System.Diagnostics;
using Ariadne.Limits;
using Ariadne.Model;
using Ariadne.Operations;
using Ariadne.Pipeline.Log;
using Ariadne.Sampling.Tail;
using Ariadne.Storage;

namespace Ariadne.Pipeline;

/// <summary>
/// The one service every receiver hands its decoded batch to (OTLP gRPC, OTLP HTTP, Zipkin), so validation,
/// counting and storage behave the same whatever the protocol. The request was admitted before its body was
/// decoded (bearer token, tenant, limits: Access.AccessMiddleware); its spans are charged to the tenant's rate
/// here, and the aggregators see every valid span before sampling.
/// <para>
/// With a durable engine the batch is then appended to the ingest log once (one encode, one group-committed fsync)
/// and the client is answered when it is durable. The log hands each durable record, in log order, to the
/// consumers: the tail sampler (which holds the spans for a decision and whose decisions are logged too) and the
/// storage engine (<see cref="ILogFedStore"/>). A segment is deleted once no consumer needs it: storage has made
/// what it took durable, and the sampler holds no undecided trace from it. A restart hands the consumers what the
/// log holds past their checkpoints (<see cref="LogRecovery"/>): the one recovery path.
/// </para>
/// <para>
/// The memory engine keeps nothing on disk, so it runs without a log: batches go to the sampler or the store directly.
/// </para>
/// Storage that cannot take the batch is an outcome (<see cref="IngestResult.Unavailable"/>), not an exception, so
/// receivers need know nothing of storage.
/// </summary>
public sealed partial class IngestPipeline : IAsyncDisposable
{
    public const string LogDirectoryName = "log";

    private readonly IngestMetrics _metrics;
    private readonly IIngestAggregator[] _aggregators;
    private readonly TailSampler _sampler;
    private readonly TenantRateLimiter _rates;
    private readonly SpanLimiter _limits;
    private readonly ISpanStore _store;
    private readonly ILogFedStore? _fed;
    private readonly SegmentLog? _log;
    private readonly AggregatorCheckpoints? _checkpoints;
    private readonly Cluster.ClusterForwarder? _cluster;
    private readonly RecentRecords? _recent;
    private LogPosition _lastDispatched;

    // Set by the first failure of the engine's Take: from then on no record reaches storage, so its durable position
    // stays before the record it failed on and the next start hands it that record again.
    private volatile string? _storageStopped;
    private readonly ILogger _logger;
    private readonly Lock _holdsLock = new();
    private readonly List<DecisionHold> _holds = [];
    private readonly ConcurrentQueue<PendingDecisions> _uncommitted = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly TimeSpan _backlogWait;
    private static readonly TimeSpan BacklogPoll = TimeSpan.FromMilliseconds(10);

    /// <param name="logDirectory">Where the ingest log lives; null to run without one (only for an engine that is not <see cref="ILogFedStore"/>).</param>
    /// <param name="files">The log's durable write steps; the real file system unless a fault-injection test passes its own.</param>
    /// <param name="cluster">In cluster mode, the routing step: spans of traces other nodes own are forwarded to them.</param>
    public IngestPipeline(
        IngestMetrics metrics, IEnumerable<IIngestAggregator> aggregators, TailSampler sampler, TenantRateLimiter rates, SpanLimiter limits, ISpanStore store,
        string? logDirectory, Configuration.IngestOptions options, ILogger<IngestPipeline> logger, IDurableFiles? files = null, Cluster.ClusterForwarder? cluster = null)
    {
        _cluster = cluster;
        _metrics = metrics;
        _aggregators = aggregators.ToArray();
        _sampler = sampler;
        _rates = rates;
        _limits = limits;
        _store = store;
        _logger = logger;
        _backlogWait = options.BacklogWait;
        if (logDirectory is not null && store is ILogFedStore fed)
        {
            _fed = fed;
            Directory.CreateDirectory(logDirectory);
            LegacyLogs.Import(Path.GetDirectoryName(Path.GetFullPath(logDirectory))!, logDirectory, logger);
            _checkpoints = new AggregatorCheckpoints(logDirectory, _aggregators, options.AggregatesCheckpointInterval, files ?? DurableFiles.System, logger);
            var aggregatedThrough = _checkpoints.Restore();
            var (recovered, replayedThrough) = LogRecovery.Run(logDirectory, fed, sampler, new LogRecovery.Aggregation(_aggregators, aggregatedThrough), logger);

            // What the aggregators hold now covers the whole log, so a stop before any new record checkpoints that.
            _lastDispatched = LogPosition.Max(aggregatedThrough, replayedThrough);
            _log = SegmentLog.Open(logDirectory, options.GroupCommitInterval, options.LogSegmentBytes, Dispatch, files);
            LogDirectory = logDirectory;
            _recent = cluster is null ? null : new RecentRecords(TimeProvider.System);
            foreach (var early in recovered)
            {
                _ = CommitAsync(early);
            }
        }

        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>The ingest log's directory; null when running without one (memory engine).</summary>
    public string? LogDirectory { get; }

    /// <summary>Bytes of the ingest log's segments on disk (0 without a log).</summary>
    public long LogBytes => LogDirectory is null ? 0 : SegmentLog.SegmentBytes(LogDirectory);

    /// <summary>
    /// Validates, limits and takes a batch. In cluster mode the spans of traces other nodes own are forwarded to them
    /// at the same time as this node's share is logged, and the answer waits for both; spans forwarded to this node
    /// (<paramref name="protocol"/> <see cref="Cluster.ClusterForwarder.Protocol"/>) were charged, limited and routed by
    /// the node that received them, so here they are only taken.
    /// </summary>
    public async ValueTask<IngestResult> IngestAsync(string tenant, string protocol, SpanBatch batch, CancellationToken cancellationToken)
    {
        var spans = batch.Spans;
        if (protocol == Cluster.ClusterForwarder.Protocol)
        {
            return await TakeForwardedAsync(tenant, spans, cancellationToken);
        }

        _rates.Take(tenant, spans.Count);
        var write = 0;
        for (var read = 0; read < spans.Count; read++)
        {
            var span = spans[read];
            if (span.TraceId.IsEmpty || span.SpanId.IsEmpty)
            {
                batch.Reject("trace_id and span_id must not be all zero");
                continue;
            }

            spans[write++] = span;
        }

        spans.RemoveRange(write, spans.Count - write);
        var hits = _limits.Apply(tenant, spans, out var refusal);
        if (refusal is not null)
        {
            batch.Reject(refusal, hits.TraceTooLarge);
        }

        _metrics.RecordSpanLimits(tenant, hits);
        var accepted = spans.Count;
        if (spans.Count > 0)
        {
            var foreign = _cluster?.TakeForeign(spans);
            var forwarding = foreign is null ? null : _cluster!.ForwardAsync(tenant, foreign, cancellationToken);
            var unavailable = await TakeAsync(tenant, spans, cancellationToken);
            if (forwarding is not null)
            {
                var forwarded = await forwarding;
                if (forwarded.Local is { Count: > 0 } handedOn)
                {
                    unavailable ??= await TakeAsync(tenant, handedOn, cancellationToken);
                }

                unavailable ??= forwarded.Unavailable;
            }

            if (unavailable is not null)
            {
                return new IngestResult(0, batch.RejectedSpans, batch.RejectionMessage, unavailable);
            }
        }

        _metrics.RecordIngest(protocol, tenant, accepted, batch.RejectedSpans);
        return new IngestResult(accepted, batch.RejectedSpans, batch.RejectionMessage);
    }

    private async ValueTask<IngestResult> TakeForwardedAsync(string tenant, List<Span> spans, CancellationToken cancellationToken)
    {
        if (await TakeAsync(tenant, spans, cancellationToken) is { } unavailable)
        {
            return new IngestResult(0, 0, null, unavailable);
        }

        _metrics.RecordIngest(Cluster.ClusterForwarder.Protocol, tenant, spans.Count, 0);
        return new IngestResult(spans.Count, 0, null);
    }

    /// <summary>Hands spans this node owns to the aggregators (without a log) and the log or storage; null once they are taken.</summary>
    private async ValueTask<IngestUnavailable?> TakeAsync(string tenant, List<Span> spans, CancellationToken cancellationToken)
    {
        if (spans.Count == 0)
        {
            return null;
        }

        if (_log is null)
        {
            Observe(tenant, spans);
        }

        try
        {
            await WriteAsync(tenant, spans, cancellationToken);
            return null;
        }
        catch (StorageUnavailableException e)
        {
            return IngestUnavailable.From(e);
        }
    }

    /// <summary>Decides and stores what is due now, and deletes the log segments no consumer needs (tests drive the clock).</summary>
    internal async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        // Only the rounds waiting when the tick began: one the log refuses again goes back in the queue for the next tick.
        for (var waiting = _uncommitted.Count; waiting > 0 && _uncommitted.TryDequeue(out var pending); waiting--)
        {
            await CommitAsync(pending, cancellationToken);
        }

        if (_sampler.Buffering)
        {
            await CommitAsync(_sampler.DecideDue(), cancellationToken);
        }

        WriteAggregatesCheckpoint();
        Truncate();
    }

    /// <summary>
    /// Gives back the tail sampler's buffers when the heap is over its bound (an <see cref="Limits.IngestMemoryLimiter"/>
    /// relief): every held trace is decided now, by the same policies as at the end of its wait, and the kept ones go
    /// to storage as usual. Traces whose spans arrive later are decided again from those spans alone, as after an early
    /// decision when the buffer is full (Sampling:Tail:MaxTraces, MaxBytes).
    /// </summary>
    public Task DecideHeldTracesAsync() =>
        _sampler.Buffering && _sampler.BufferedTraces > 0 ? CommitAsync(_sampler.DecideAll()) : Task.CompletedTask;

    /// <summary>
    /// Stops deciding. With a log, what the sampler holds stays in the log and is held again after the next start;
    /// without one, every held trace is decided now so that a clean stop loses nothing the policies would keep.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_log is not null)
        {
            await _log.DisposeAsync();

            // Everything durable has been dispatched: the aggregators' state covers the whole log.
            _checkpoints!.Capture(_lastDispatched);
            WriteAggregatesCheckpoint();
        }
        else if (_sampler.Buffering)
        {
            await CommitAsync(_sampler.DecideAll(), CancellationToken.None);
        }

        _stop.Dispose();
    }

    private async ValueTask WriteAsync(string tenant, List<Span> spans, CancellationToken cancellationToken)
    {
        var route = _sampler.Buffering ? SpanRoute.TailSampling : SpanRoute.Storage;
        if (_log is null)
        {
            await TakeWithoutLogAsync(tenant, route, spans, cancellationToken);
            return;
        }

        await WaitForStorageAsync(cancellationToken);

        // Encoded on this thread, outside every lock; only the copy into the log's queue is serialised.
        var record = LogRecords.EncodeSpans(tenant, route, spans);
        var key = _recent is null ? default : RecentRecords.KeyOf(record.Span);
        if (_recent?.Contains(key) == true)
        {
            // A client's retry of a request whose share this node logged already: durable, so acknowledged as it is.
            _metrics.RecordDuplicate(tenant, spans.Count);
            return;
        }

        try
        {
            await _log.AppendAsync(record.Span, new SpansEntry(tenant, route, spans));
        }
        catch (LogUnavailableException e)
        {
            throw new StorageUnavailableException(e.Message, e);
        }

        _recent?.Add(key);
    }

    /// <summary>
    /// Holds the request while storage is behind, up to <see cref="Configuration.IngestOptions.BacklogWait"/>, then
    /// refuses it. The waiting requests are few (ingest concurrency bounds them), so a poll costs little.
    /// </summary>
    private async ValueTask WaitForStorageAsync(CancellationToken cancellationToken)
    {
        if (_storageStopped is { } stopped)
        {
            throw new StorageUnavailableException(stopped);
        }

        var started = Stopwatch.GetTimestamp();
        while (_fed!.Backlog is { } backlog)
        {
            if (Stopwatch.GetElapsedTime(started) >= _backlogWait)
            {
                throw new StorageUnavailableException(backlog);
            }

            await Task.Delay(BacklogPoll, cancellationToken);
        }
    }

    private async ValueTask TakeWithoutLogAsync(string tenant, SpanRoute route, List<Span> spans, CancellationToken cancellationToken)
    {
        if (route == SpanRoute.Storage)
        {
            await _store.AppendAsync(tenant, spans, cancellationToken);
            return;
        }

        var take = _sampler.Take(tenant, spans, segment: 0);
        if (take.LateKept is { } late)
        {
            await _store.AppendAsync(tenant, late, cancellationToken);
        }

        if (take.Early is { Count: > 0 } early)
        {
            await CommitAsync(early, cancellationToken);
        }
    }

    /// <summary>
    /// Hands one durable record to its consumers, on the log's writer thread, in log order: the consumers must not
    /// block, and a failure here must not stop the log (the record is durable; the next start hands it again).
    /// </summary>
    private void Dispatch(object entry, LogPosition position)
    {
        if (entry is SpansEntry observed)
        {
            Observe(observed.Tenant, observed.Spans, position);
        }

        if (_storageStopped is null)
        {
            Feed(entry, position);
        }

        _lastDispatched = position;
        _checkpoints!.Observed(position);
    }

    /// <summary>
    /// Hands a durable record to storage (through the tail sampler for the spans it holds). The engine must take
    /// every record in order: after a failure none follows, since taking a later one could make the engine durable
    /// past the one it missed, which then no restart would hand it again. Ingest answers 503 until a restart.
    /// </summary>
    private void Feed(object entry, LogPosition position)
    {
        try
        {
            switch (entry)
            {
                case SpansEntry { Route: SpanRoute.Storage } direct:
                    _fed!.Take(direct.Tenant, direct.Spans, position);
                    break;
                case SpansEntry held:
                    // Storage takes the late spans of kept traces, or nothing: either way it learns the position.
                    var take = _sampler.Take(held.Tenant, held.Spans, position.Segment);
                    _fed!.Take(held.Tenant, take.LateKept ?? (IReadOnlyList<Span>)[], position);
                    if (take.Early is { Count: > 0 } early)
                    {
                        _ = CommitAsync(early);
                    }

                    break;
                case PendingDecisions decided:
                    foreach (var (tenant, spans) in decided.Traces.KeptByTenant)
                    {
                        _fed!.Take(tenant, spans, position);
                    }

                    if (decided.Traces.KeptByTenant.Count == 0)
                    {
                        _fed!.Take(string.Empty, [], position);
                    }

                    decided.Hold.Position = position;
                    break;
            }
        }
        catch (Exception e)
        {
            _storageStopped = $"storage failed to take the spans at ingest-log position {position} ({e.Message}) and takes no more until the server restarts; " +
                "every acknowledged span is safe in the ingest log and is stored at the next start. See the server log, fix the cause, then restart.";
            LogDispatchFailed(_logger, position.ToString(), e.Message, e);
        }
    }

    /// <summary>Hands valid spans to every aggregator: at their log position with a log, before storage without one.</summary>
    private void Observe(string tenant, IReadOnlyList<Span> spans, LogPosition? position = null)
    {
        foreach (var aggregator in _aggregators)
        {
            try
            {
                aggregator.Observe(tenant, spans);
                if (position is { } at)
                {
                    (aggregator as IPositionedAggregator)?.ObservedAt(at);
                }
            }
            catch (Exception e)
            {
                // A failing aggregator must keep neither the spans from storage nor the other aggregators from them;
                // its own figures miss this record.
                LogObserveFailed(_logger, aggregator.GetType().Name, position?.ToString() ?? "(no log)", e.Message, e);
            }
        }
    }

    private void WriteAggregatesCheckpoint()
    {
        try
        {
            _checkpoints?.WritePending();
        }
        catch (IOException e)
        {
            // The log keeps the segments past the last written checkpoint, so a later write loses nothing.
            LogAggregatesCheckpointFailed(_logger, e.Message, e);
        }
    }

    private Task CommitAsync(DecidedTraces decided, CancellationToken cancellationToken = default) =>
        decided.Count == 0 ? Task.CompletedTask : CommitAsync(new PendingDecisions(decided, Hold(decided)), cancellationToken);

    /// <summary>
    /// Makes a round of decisions count: with a log, the decisions are appended and, once durable, the kept spans go
    /// to storage (at the decisions' position); without one, the kept spans are stored now. A round the log refused
    /// is retried on the next tick; its hold keeps its segments meanwhile.
    /// </summary>
    private async Task CommitAsync(PendingDecisions pending, CancellationToken cancellationToken)
    {
        if (_log is null)
        {
            foreach (var (tenant, spans) in pending.Traces.KeptByTenant)
            {
                await _store.AppendAsync(tenant, spans, cancellationToken);
            }

            return;
        }

        var record = LogRecords.EncodeDecisions(pending.Traces.Decisions);
        try
        {
            await _log.AppendAsync(record.Span, pending);
        }
        catch (Exception e) when (e is LogUnavailableException or ObjectDisposedException)
        {
            if (!_stop.IsCancellationRequested)
            {
                _uncommitted.Enqueue(pending);
                LogDecisionsDeferred(_logger, pending.Traces.Count, e.Message);
            }
        }
    }

    private DecisionHold Hold(DecidedTraces decided)
    {
        var hold = new DecisionHold(decided.OldestSegment);
        if (_log is not null)
        {
            lock (_holdsLock)
            {
                _holds.Add(hold);
            }
        }

        return hold;
    }

    /// <summary>Deletes the segments before the oldest one a consumer still needs.</summary>
    private void Truncate()
    {
        if (_log is null)
        {
            return;
        }

        var durable = _fed!.DurableThrough;
        var keep = Math.Min(durable.Segment, _sampler.OldestHeldSegment);
        if (_checkpoints!.Enabled)
        {
            keep = Math.Min(keep, _checkpoints.Written.Segment);
        }

        lock (_holdsLock)
        {
            _holds.RemoveAll(h => h.Position is { } at && at <= durable);
            foreach (var hold in _holds)
            {
                keep = Math.Min(keep, hold.OldestSegment);
            }
        }

        try
        {
            _log.DeleteThrough(keep - 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogTruncateFailed(_logger, e.Message);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var tick = _sampler.Buffering ? _sampler.Tick : TimeSpan.FromSeconds(1);
        using var timer = new PeriodicTimer(tick);
        while (await WaitForTickAsync(timer, cancellationToken))
        {
            try
            {
                await RunOnceAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Storage failing must not stop decisions: the kept traces of a failed round are retried on the next tick.
                LogTickFailed(_logger, e.Message, e);
            }
        }
    }

    private static async Task<bool> WaitForTickAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Segments that decided traces came from, kept until the decisions are durable and storage has made the kept spans durable.</summary>
    private sealed class DecisionHold(long oldestSegment)
    {
        public long OldestSegment { get; } = oldestSegment;

        /// <summary>Where the decisions landed in the log; null until they are durable.</summary>
        public LogPosition? Position { get; set; }
    }

    private sealed record PendingDecisions(DecidedTraces Traces, DecisionHold Hold);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ingest log: storage failed to take the record at {Position} ({Reason}). It takes no more records until the server restarts, which hands it this one again: the record is durable. Ingest answers 503 meanwhile; fix the cause, then restart.")]
    private static partial void LogDispatchFailed(ILogger logger, string position, string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ingest log: the aggregator {Aggregator} failed on the record at {Position} ({Reason}); the spans went on to storage and to the other aggregators, and this one's figures miss them. Report it as a bug with this log line.")]
    private static partial void LogObserveFailed(ILogger logger, string aggregator, string position, string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Saving the aggregators' checkpoint failed ({Reason}); the ingest log keeps what it covers, and the save is retried on the next tick. Check the data directory's disk.")]
    private static partial void LogAggregatesCheckpointFailed(ILogger logger, string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingest log: {Count} tail decisions could not be logged ({Reason}); retried on the next tick.")]
    private static partial void LogDecisionsDeferred(ILogger logger, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingest log: a segment no consumer needs could not be deleted ({Reason}); retried on the next tick. If this repeats, check the log directory's permissions and disk.")]
    private static partial void LogTruncateFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tail sampling: a round of decisions could not be stored ({Reason}); retried on the next tick.")]
    private static partial void LogTickFailed(ILogger logger, string reason, Exception exception);
}
