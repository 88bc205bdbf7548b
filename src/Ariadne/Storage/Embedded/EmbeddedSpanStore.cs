using Ariadne.Model;
using Ariadne.Pipeline.Log;
using Ariadne.Storage.Embedded.Aggregation;
using Ariadne.Storage.Embedded.Blocks;
using Ariadne.Threading;

namespace Ariadne.Storage.Embedded;

/// <summary>
/// The embedded engine, after Tempo's block builder → blocks → compactor: it takes spans from the ingest log into
/// the in-memory head; the head is cut into Parquet blocks by size and age, and each finished cut moves the engine's
/// checkpoint in the log (<c>CHECKPOINT</c>): what is past it is handed again after a crash. The engine keeps no log
/// of its own. Compaction merges small blocks of one time window; retention deletes whole blocks and keeps their
/// aggregates. Layout of the data directory: <c>FORMAT</c>, <c>CHECKPOINT</c>, <c>blocks/&lt;tenant&gt;/&lt;block&gt;/</c>,
/// <c>aggregates/&lt;tenant&gt;/</c>, <c>quarantine/</c> (and the pipeline's <c>log/</c>).
/// </summary>
public sealed partial class EmbeddedSpanStore : ISpanStore, ILogFedStore
{
    private readonly string _directory;
    private readonly EmbeddedStorageOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IDurableFiles _files;
    private readonly AggregateStore _aggregates;
    private readonly Lock _ingestLock = new();
    private readonly Lock _blocksLock = new();
    private readonly SemaphoreSlim _cutLock = new(1, 1);
    private readonly Lock _cutTaskLock = new();
    private readonly SemaphoreSlim _maintenanceLock = new(1, 1);
    private readonly Dictionary<string, List<Block>> _blocks = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _background;
    private Head _head;
    private Head? _flushing;
    private LogPosition _lastTaken;
    private LogPosition _flushingThrough;
    private LogPosition _durableThrough;
    private readonly HashSet<string> _flushedTenants = new(StringComparer.Ordinal);
    private Task _cutTask = Task.CompletedTask;

    // Block cuts run for seconds of CPU each. On the thread pool they held its few threads (two on two cores) while
    // queries queued behind them; on a thread of their own, at a priority between the queries' and ingest's, they
    // neither starve the pool nor outrun the reads.
    private const int BlockWriterNice = 5;
    private readonly LowPriorityScheduler _blockWriter;
    private long _headSpans;
    private readonly FileStream _directoryLock;
    private bool _disposed;

    private EmbeddedSpanStore(string directory, EmbeddedStorageOptions options, TimeProvider time, ILogger logger, IDurableFiles files)
    {
        _directory = directory;
        _options = options;
        _time = time;
        _logger = logger;
        _files = files;
        _head = new Head(time.GetTimestamp());

        DataDirectoryFormat.EnsureCompatible(directory);
        _directoryLock = LockDirectory(directory);
        _aggregates = AggregateStore.Load(Path.Combine(directory, "aggregates"), files);
        _durableThrough = _lastTaken = ReadCheckpoint();
        LoadBlocks();
        _blockWriter = new LowPriorityScheduler("ariadne block writer", 1, BlockWriterNice);
        _background = Task.Run(() => RunMaintenanceAsync(_stop.Token));
    }

    public string DataDirectory => _directory;

    private string CheckpointPath => Path.Combine(_directory, "CHECKPOINT");

    private string BlocksDirectory => Path.Combine(_directory, "blocks");

    /// <summary>
    /// Opens (or creates) a data directory: checks its format version, reads the checkpoint and loads blocks
    /// (quarantining damaged ones, removing those of an unfinished cut). The head starts empty: the pipeline hands it
    /// what the ingest log holds past <see cref="DurableThrough"/>. Throws <see cref="StorageFormatException"/> for an
    /// incompatible directory. <paramref name="files"/> performs every durable write step (the real file system
    /// unless a fault-injection test passes its own).
    /// </summary>
    public static EmbeddedSpanStore Open(string directory, EmbeddedStorageOptions options, TimeProvider time, ILogger logger, IDurableFiles? files = null) =>
        new(directory, options, time, logger, files ?? DurableFiles.System);

    /// <summary>Directory name of a tenant: prefixed so that no tenant id ('.', '..') can name a special path.</summary>
    public static string TenantDirectoryName(string tenant) => "t-" + tenant;

    /// <summary>
    /// Adds spans to the head without a log position: durable only once cut (tests, tools). The server feeds the
    /// engine through <see cref="Take"/>.
    /// </summary>
    public ValueTask AppendAsync(string tenant, IReadOnlyList<Span> spans, CancellationToken cancellationToken)
    {
        Add(tenant, spans, position: null);
        return ValueTask.CompletedTask;
    }

    public void Take(string tenant, IReadOnlyList<Span> spans, LogPosition position) => Add(tenant, spans, position);

    public LogPosition DurableThrough
    {
        get
        {
            lock (_ingestLock)
            {
                // With nothing in memory, every position taken is durable: the records since the last cut held no spans.
                return _head.SpanCount == 0 && _flushing is null ? _lastTaken : _durableThrough;
            }
        }
    }

    public string? Backlog
    {
        get
        {
            var spans = Volatile.Read(ref _headSpans);
            return spans < BacklogSpans
                ? null
                : $"Block writing is behind ingest: {spans} spans wait in memory (Embedded:HeadMaxSpans {_options.HeadMaxSpans}); new spans are refused until it catches up. Check the data directory's disk.";
        }
    }

    /// <summary>Spans in memory (the head and a cut being written) past which ingest is refused: three heads.</summary>
    private long BacklogSpans => 3L * _options.HeadMaxSpans;

    private void Add(string tenant, IReadOnlyList<Span> spans, LogPosition? position)
    {
        int headSpans;
        lock (_ingestLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (spans.Count > 0)
            {
                _head.Add(tenant, spans, _time.GetTimestamp());
            }

            if (position is { } at)
            {
                _lastTaken = at;
            }

            headSpans = _head.SpanCount;
            Volatile.Write(ref _headSpans, headSpans + (_flushing?.SpanCount ?? 0));
        }

        if (headSpans >= _options.HeadMaxSpans)
        {
            StartCut();
        }
    }

    /// <summary>
    /// Writes the head out as blocks (one per tenant) now, then moves the checkpoint past the log records they cover.
    /// Also retries a previous cut whose block writing failed.
    /// </summary>
    public async Task CutHeadAsync(CancellationToken cancellationToken = default)
    {
        await _cutLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_flushing is null)
            {
                lock (_ingestLock)
                {
                    if (_head.SpanCount == 0)
                    {
                        return;
                    }

                    _flushingThrough = _lastTaken;
                    _flushing = _head;
                    _head = new Head(_time.GetTimestamp());
                    _flushedTenants.Clear();
                }
            }

            var flushing = _flushing;
            var through = _flushingThrough;
            await _blockWriter.RunAsync(() => WriteHead(flushing, through)).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (through > _durableThrough)
            {
                WriteCheckpoint(through);
            }

            lock (_ingestLock)
            {
                _flushing = null;
                _durableThrough = LogPosition.Max(_durableThrough, through);
                Volatile.Write(ref _headSpans, _head.SpanCount);
            }
        }
        finally
        {
            _cutLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_ingestLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _background.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        try
        {
            await _cutTask.ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Already logged by the cut; the ingest log still holds those spans.
        }

        try
        {
            // A clean shutdown leaves nothing in the log for this engine to take again.
            await CutHeadAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            LogCutFailed(_logger, e.Message, e);
        }

        lock (_blocksLock)
        {
            foreach (var block in _blocks.Values.SelectMany(b => b))
            {
                block.Release();
            }

            _blocks.Clear();
        }

        _stop.Dispose();
        await _directoryLock.DisposeAsync().ConfigureAwait(false);
        _blockWriter.Dispose();
    }

    /// <summary>One process per data directory: a second server or a `storage compact` would corrupt the first's view.</summary>
    private static FileStream LockDirectory(string directory)
    {
        try
        {
            return new FileStream(Path.Combine(directory, "LOCK"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new StorageFormatException(
                $"Data directory '{Path.GetFullPath(directory)}' is in use by another Ariadne process ({e.Message}). Stop it first, or use another --data directory.");
        }
    }

    internal static long ToNanos(DateTimeOffset time)
    {
        if (time <= DateTimeOffset.UnixEpoch)
        {
            return long.MinValue;
        }

        return time == DateTimeOffset.MaxValue ? long.MaxValue : (time - DateTimeOffset.UnixEpoch).Ticks * 100;
    }

    private Task StartCut()
    {
        lock (_cutTaskLock)
        {
            if (_cutTask.IsCompleted)
            {
                _cutTask = Task.Run(async () =>
                {
                    try
                    {
                        await CutHeadAsync().ConfigureAwait(false);
                    }
                    catch (IOException e)
                    {
                        LogCutFailed(_logger, e.Message, e);
                    }
                });
            }

            return _cutTask;
        }
    }

    /// <summary>
    /// Writes a block per tenant not yet written by an earlier try of this cut, then makes every tenant directory's
    /// new names durable. A failure leaves the tenants written so far in the block list (served from there), and the
    /// retry writes only the rest: a tenant's spans are never in two blocks.
    /// </summary>
    private void WriteHead(Head head, LogPosition through)
    {
        foreach (var (tenant, tenantHead) in head.Tenants)
        {
            if (_flushedTenants.Contains(tenant) || tenantHead.Traces.Count == 0)
            {
                continue;
            }

            var tenantDirectory = Path.Combine(BlocksDirectory, TenantDirectoryName(tenant));
            Directory.CreateDirectory(tenantDirectory);
            using var writer = new BlockWriter(tenantDirectory, tenant, _options, _time, _files);
            writer.LogThrough = through == LogPosition.Start ? null : through.ToString();
            var traces = new List<(TraceId TraceId, List<Span> Spans)>(tenantHead.Traces.Count);
            foreach (var (id, spans) in tenantHead.Traces)
            {
                traces.Add((id, Deduplicate(spans)));
            }

            traces.Sort(BlockOrder.Compare);
            foreach (var (id, spans) in traces)
            {
                writer.AddTrace(id, spans);
            }

            writer.Complete();
            var block = Block.Open(writer.Directory, verifyData: false);
            lock (_ingestLock)
            {
                // One step for readers: the tenant's spans leave the head being cut as they enter the block list.
                AddBlock(block);
                _flushedTenants.Add(tenant);
            }
        }

        foreach (var tenant in _flushedTenants)
        {
            _files.SyncDirectory(Path.Combine(BlocksDirectory, TenantDirectoryName(tenant)));
        }
    }

    /// <summary>
    /// Spans of one trace sorted by start, each copy of a resent span (client retries) kept once. A copy has the same
    /// span id, service, kind and start; Zipkin-style client and server halves share a span id but differ in service
    /// and kind, and both are kept.
    /// </summary>
    internal static List<Span> Deduplicate(List<Span> spans)
    {
        // Sorted by start, then by what makes a copy, the copies of a span are neighbours: each span is compared with
        // the last one kept only (O(n log n) for any trace, where comparing with every span kept was O(n²)).
        var result = new List<Span>(spans);
        result.Sort(ByStartThenIdentity);
        var kept = 0;
        for (var i = 0; i < result.Count; i++)
        {
            if (kept == 0 || ByStartThenIdentity(result[kept - 1], result[i]) != 0)
            {
                result[kept++] = result[i];
            }
        }

        result.RemoveRange(kept, result.Count - kept);
        return result;
    }

    /// <summary>Start, then what makes a copy of a span (span id, kind, service): 0 for two copies of one span.</summary>
    private static readonly Comparison<Span> ByStartThenIdentity = static (a, b) =>
    {
        var c = a.StartTimeUnixNano.CompareTo(b.StartTimeUnixNano);
        if (c == 0)
        {
            c = a.SpanId.Value.CompareTo(b.SpanId.Value);
        }

        if (c == 0)
        {
            c = a.Kind.CompareTo(b.Kind);
        }

        return c != 0 ? c : string.CompareOrdinal(a.ServiceName, b.ServiceName);
    };

    private LogPosition ReadCheckpoint()
    {
        try
        {
            return File.Exists(CheckpointPath) ? LogPosition.Parse(File.ReadAllText(CheckpointPath)) : LogPosition.Start;
        }
        catch (InvalidDataException e)
        {
            throw new StorageFormatException($"{CheckpointPath} is damaged ({e.Message}); remove it to take everything the ingest log holds again (duplicates are dropped by compaction).");
        }
    }

    /// <summary>Written after the cut's blocks are complete: write a temp file, fsync, rename over the old one, fsync the directory.</summary>
    private void WriteCheckpoint(LogPosition through) =>
        DurableFiles.Replace(_files, CheckpointPath, System.Text.Encoding.ASCII.GetBytes(through + "\n"));

    [LoggerMessage(Level = LogLevel.Error, Message = "Cutting the head into blocks failed ({Reason}); the spans stay in the ingest log and the cut is retried.")]
    private static partial void LogCutFailed(ILogger logger, string reason, Exception exception);
}
