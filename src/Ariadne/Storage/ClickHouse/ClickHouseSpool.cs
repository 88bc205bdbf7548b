using Ariadne.Model;
using Ariadne.Storage.Embedded.Encoding;
using Ariadne.Storage.Embedded.Wal;

namespace Ariadne.Storage.ClickHouse;

/// <summary>
/// The embedded engine's write-ahead log in front of ClickHouse: an append is acknowledged once it is fsynced to
/// the local WAL, and a drain loop moves sealed segments into ClickHouse in large INSERTs, deleting a segment once
/// ClickHouse holds all of it. While ClickHouse is down or slow the segments wait (retried with backoff) and ingest
/// keeps being acknowledged, up to <see cref="ClickHouseOptions.MaxWalBytes"/> of backlog; beyond it appends are
/// refused with <see cref="StorageUnavailableException"/> (503 / UNAVAILABLE, so clients retry) until it drains.
/// A crash between an INSERT and the segment's deletion inserts that part again on restart; reads drop the
/// duplicate rows (<c>LIMIT 1 BY trace_id, span_id</c>).
/// </summary>
public sealed partial class ClickHouseSpool : IAsyncDisposable
{
    private static readonly TimeSpan s_idlePoll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(2);
    private readonly string _directory;
    private readonly WriteAheadLog _wal;
    private readonly ClickHouseOptions _options;
    private readonly Func<ReadOnlyMemory<byte>, CancellationToken, Task> _send;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _flushLock = new();
    private readonly List<(long Segment, TaskCompletionSource Done)> _flushes = [];
    private readonly Task _drain;
    private long _backlogBytes;
    private long _drainedThrough;
    private int _signalled;
    private int _appendsSinceRotate;
    private (long Segment, int Records) _resume;

    private ClickHouseSpool(string directory, ClickHouseOptions options, Func<ReadOnlyMemory<byte>, CancellationToken, Task> send, ILogger logger)
    {
        _directory = directory;
        _options = options;
        _send = send;
        _logger = logger;
        _wal = WriteAheadLog.Open(directory, TimeSpan.Zero);
        UpdateBacklog();
        _drain = Task.Run(DrainLoopAsync);
    }

    /// <summary>Bytes acknowledged but not yet in ClickHouse (WAL segments on disk), as of the last drain pass.</summary>
    public long BacklogBytes => Interlocked.Read(ref _backlogBytes);

    /// <summary>Opens the WAL in <paramref name="directory"/>; segments left by a previous run are drained first.</summary>
    public static ClickHouseSpool Open(string directory, ClickHouseOptions options, Func<ReadOnlyMemory<byte>, CancellationToken, Task> send, ILogger logger) =>
        new(directory, options, send, logger);

    /// <summary>Completes when the spans are fsynced to the WAL.</summary>
    public Task AppendAsync(string tenant, IReadOnlyList<Span> spans)
    {
        var backlog = BacklogBytes;
        if (backlog >= _options.MaxWalBytes)
        {
            throw new StorageUnavailableException(
                $"ClickHouse is {backlog / (1 << 20)} MiB of spans behind (ClickHouse:MaxWalBytes {_options.MaxWalBytes / (1 << 20)} MiB), so new spans are refused until it catches up; check that ClickHouse at {_options.Url} is up.");
        }

        var durable = _wal.AppendAsync(w =>
        {
            SpanCodec.WriteString(w, tenant);
            SpanCodec.WriteSpans(w, spans);
        });
        Interlocked.Increment(ref _appendsSinceRotate);
        Signal();
        return durable;
    }

    /// <summary>Completes when every span appended before the call is in ClickHouse.</summary>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        var target = _wal.Rotate();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_flushLock)
        {
            if (target <= _drainedThrough)
            {
                return Task.CompletedTask;
            }

            _flushes.Add((target, done));
        }

        Signal();
        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops draining; what is not in ClickHouse yet stays in the WAL for the next start.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _drain;
        await _wal.DisposeAsync();
        lock (_flushLock)
        {
            foreach (var (_, done) in _flushes)
            {
                done.TrySetCanceled();
            }
        }

        _stop.Dispose();
        _signal.Dispose();
    }

    private void Signal()
    {
        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            _signal.Release();
        }
    }

    private async Task DrainLoopAsync()
    {
        var writer = new RowBinaryWriter();
        var backoff = TimeSpan.FromMilliseconds(100);
        var failing = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(s_idlePoll, _stop.Token);
                Interlocked.Exchange(ref _signalled, 0);
                await DrainOnceAsync(writer, _stop.Token);
                if (failing)
                {
                    LogRecovered(_logger, _options.Url);
                    failing = false;
                }

                backoff = TimeSpan.FromMilliseconds(100);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                break;
            }
            catch (ClickHouseException e)
            {
                if (!failing)
                {
                    LogUnavailable(_logger, e.Message);
                    failing = true;
                }

                UpdateBacklog();
                try
                {
                    await Task.Delay(backoff, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_maxBackoff.Ticks));
            }
        }
    }

    /// <summary>Seals the current segment (when anything was appended) and moves every sealed segment into ClickHouse, oldest first.</summary>
    private async Task DrainOnceAsync(RowBinaryWriter writer, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _appendsSinceRotate, 0) > 0)
        {
            _wal.Rotate();
        }

        var current = _wal.CurrentSegment;
        foreach (var (number, path) in WriteAheadLog.ListSegments(_directory))
        {
            if (number >= current)
            {
                break;
            }

            var records = new List<(string Tenant, List<Span> Spans)>();
            var problems = new List<string>();
            WalReader.ReplaySegment(number, path, (_, payload) =>
            {
                var reader = new SpanCodecReader(payload);
                records.Add((reader.ReadString(), reader.ReadSpans()));
            }, problems);
            foreach (var problem in problems)
            {
                LogTornRecord(_logger, problem);
            }

            // Resume after the records of this segment already sent, so a retry does not insert them again.
            var next = _resume.Segment == number ? _resume.Records : 0;
            while (next < records.Count)
            {
                writer.Reset();
                var spans = 0;
                var end = next;
                while (end < records.Count && (spans == 0 || spans + records[end].Spans.Count <= _options.MaxBatchSpans))
                {
                    foreach (var span in records[end].Spans)
                    {
                        SpanRows.Write(writer, records[end].Tenant, span);
                    }

                    spans += records[end].Spans.Count;
                    end++;
                }

                await _send(writer.WrittenMemory, cancellationToken);
                next = end;
                _resume = (number, next);
            }

            _wal.DeleteThrough(number);
            _resume = default;
            CompleteFlushes(number);
        }

        UpdateBacklog();
    }

    private void CompleteFlushes(long drainedThrough)
    {
        lock (_flushLock)
        {
            _drainedThrough = drainedThrough;
            _flushes.RemoveAll(f =>
            {
                if (f.Segment > drainedThrough)
                {
                    return false;
                }

                f.Done.TrySetResult();
                return true;
            });
        }
    }

    private void UpdateBacklog()
    {
        long bytes = 0;
        foreach (var (_, path) in WriteAheadLog.ListSegments(_directory))
        {
            try
            {
                bytes += new FileInfo(path).Length;
            }
            catch (FileNotFoundException)
            {
            }
        }

        Interlocked.Exchange(ref _backlogBytes, bytes);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ClickHouse is unavailable; acknowledged spans wait in the WAL and are retried: {Message}")]
    private static partial void LogUnavailable(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "ClickHouse at {Url} is back; draining the WAL.")]
    private static partial void LogRecovered(ILogger logger, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ClickHouse WAL: {Problem}. Such a record was never acknowledged to a client.")]
    private static partial void LogTornRecord(ILogger logger, string problem);
}
