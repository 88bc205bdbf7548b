using Ariadne.Model;
using Ariadne.Pipeline.Log;

namespace Ariadne.Storage.ClickHouse;

/// <summary>
/// The engine as a consumer of the ingest log: <see cref="Take"/> queues what the log hands it (on the log's thread,
/// never blocking), one writer INSERTs the queue in log order, and <see cref="DurableThrough"/> moves past each
/// batch once ClickHouse has it. While ClickHouse is away the writer retries with backoff and the log keeps
/// everything. Past <see cref="ClickHouseOptions.MaxBacklogSpans"/> spans in memory, what it takes goes to disk as
/// ready-to-insert rows (<see cref="FeedSpill"/>, when the server gave it a directory) and is inserted after the
/// queue, in log order; past <see cref="ClickHouseOptions.MaxSpillBytes"/> there, ingest is refused (503) until it
/// drains. A crash after an INSERT but before the pipeline deleted the log segments inserts those spans again
/// on restart; reads drop the duplicate rows (<c>LIMIT 1 BY trace_id, span_id</c>).
/// </summary>
public sealed partial class ClickHouseSpanStore
{
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(2);
    private readonly Lock _feedLock = new();
    private readonly Queue<(string Tenant, IReadOnlyList<Span> Spans, LogPosition Before, LogPosition Position)> _feed = new();
    private readonly SemaphoreSlim _feedSignal = new(0);
    private readonly CancellationTokenSource _feedStop = new();
    private Task? _feedWriter;
    private long _feedSpans;
    private LogPosition _feedTaken;
    private readonly FeedSpill? _spill;

    public void Take(string tenant, IReadOnlyList<Span> spans, LogPosition position)
    {
        lock (_feedLock)
        {
            var before = _feedTaken;
            _feedTaken = position;
            if (spans.Count == 0)
            {
                return;
            }

            // Once spans go to disk, later ones follow them there until it is empty, so they reach ClickHouse in log order.
            var toDisk = _spill is not null && (!_spill.IsEmpty || _feedSpans + spans.Count > _options.MaxBacklogSpans);
            if (!toDisk || !TrySpill(tenant, spans, before, position))
            {
                _feed.Enqueue((tenant, spans, before, position));
                _feedSpans += spans.Count;
            }

            _feedWriter ??= Task.Run(FeedLoopAsync);
        }

        _feedSignal.Release();
    }

    public LogPosition DurableThrough
    {
        get
        {
            lock (_feedLock)
            {
                // Up to the oldest record not yet in ClickHouse, whichever queue holds it.
                var durable = _feedTaken;
                if (_feed.TryPeek(out var oldest))
                {
                    durable = LogPosition.Min(durable, oldest.Before);
                }

                if (_spill?.OldestBefore is { } spilled)
                {
                    durable = LogPosition.Min(durable, spilled);
                }

                return durable;
            }
        }
    }

    public string? Backlog
    {
        get
        {
            lock (_feedLock)
            {
                if (_spill is null)
                {
                    return _feedSpans < _options.MaxBacklogSpans
                        ? null
                        : $"ClickHouse is {_feedSpans} spans behind (ClickHouse:MaxBacklogSpans {_options.MaxBacklogSpans}), so new spans are refused until it catches up; check that ClickHouse at {_options.Url} is up.";
                }

                return _spill.Bytes < _options.MaxSpillBytes && _feedSpans < 2 * _options.MaxBacklogSpans
                    ? null
                    : $"ClickHouse is {_feedSpans + _spill.Spans} spans behind ({_spill.Bytes >> 20} MiB of them on disk, ClickHouse:MaxSpillBytes {_options.MaxSpillBytes}), so new spans are refused until it catches up; check that ClickHouse at {_options.Url} is up.";
            }
        }
    }

    /// <summary>Completes when everything taken before the call is in ClickHouse.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        LogPosition target;
        lock (_feedLock)
        {
            target = _feedTaken;
        }

        while (DurableThrough < target)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    private async Task FeedLoopAsync()
    {
        var schema = await InitializeAsync(_feedStop.Token);
        var insert = $"INSERT INTO {schema.Table("spans")} ({SpanRows.InsertColumnList}) FORMAT RowBinary";
        var writer = new RowBinaryWriter();
        var backoff = TimeSpan.FromMilliseconds(100);
        var failing = false;
        while (!_feedStop.IsCancellationRequested)
        {
            await _feedSignal.WaitAsync(_feedStop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            while (!_feedStop.IsCancellationRequested && NextBatch(writer) is var (count, spans, chunk) && (count > 0 || chunk is not null))
            {
                try
                {
                    await InsertAsync(insert, chunk is null ? writer.WrittenMemory : FeedSpill.Read(chunk), schema.InsertSettings, _feedStop.Token);
                }
                catch (ClickHouseException e)
                {
                    if (!failing)
                    {
                        LogFeedUnavailable(_logger, e.Message);
                        failing = true;
                    }

                    await Task.Delay(backoff, _feedStop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_maxBackoff.Ticks));
                    continue;
                }
                catch (OperationCanceledException) when (_feedStop.IsCancellationRequested)
                {
                    return;
                }

                if (failing)
                {
                    LogFeedRecovered(_logger, _options.Url);
                    failing = false;
                }

                backoff = TimeSpan.FromMilliseconds(100);
                lock (_feedLock)
                {
                    if (chunk is not null)
                    {
                        _spill!.Remove(chunk);
                    }

                    for (var i = 0; i < count; i++)
                    {
                        _feed.Dequeue();
                    }

                    _feedSpans -= spans;
                }
            }
        }
    }

    /// <summary>
    /// Encodes the queue's head, up to MaxBatchSpans (at least one entry), without dequeuing it: a failed INSERT is
    /// retried whole. With the queue empty, the oldest spilled chunk instead: the order of INSERTs does not matter, as
    /// <see cref="DurableThrough"/> stays before the oldest record either holds.
    /// </summary>
    private (int Count, long Spans, FeedSpill.Chunk? Chunk) NextBatch(RowBinaryWriter writer)
    {
        writer.Reset();
        lock (_feedLock)
        {
            if (_feed.Count == 0 && _spill is not null && _spill.TryPeek(out var chunk))
            {
                return (0, 0, chunk);
            }

            var count = 0;
            long spans = 0;
            foreach (var (tenant, batch, _, _) in _feed)
            {
                if (count > 0 && spans + batch.Count > _options.MaxBatchSpans)
                {
                    break;
                }

                foreach (var span in batch)
                {
                    SpanRows.Write(writer, tenant, span);
                }

                count++;
                spans += batch.Count;
            }

            return (count, spans, null);
        }
    }

    /// <summary>Spills spans; false when the disk refused them (logged), so the caller keeps them in memory instead.</summary>
    private bool TrySpill(string tenant, IReadOnlyList<Span> spans, LogPosition before, LogPosition position)
    {
        try
        {
            _spill!.Append(tenant, spans, before, position);
            return true;
        }
        catch (IOException e)
        {
            LogSpillFailed(_logger, e.Message);
            return false;
        }
    }

    private async Task StopFeedAsync()
    {
        await _feedStop.CancelAsync();
        _feedSignal.Release();
        if (_feedWriter is { } writer)
        {
            await writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _feedStop.Dispose();
        _spill?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ClickHouse is behind and spans could not be kept on disk ({Reason}); they wait in memory, and ingest is refused sooner. Check the data directory's disk.")]
    private static partial void LogSpillFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ClickHouse is unavailable; acknowledged spans wait in the ingest log and are retried: {Message}")]
    private static partial void LogFeedUnavailable(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "ClickHouse at {Url} is back; inserting what the ingest log handed meanwhile.")]
    private static partial void LogFeedRecovered(ILogger logger, string url);
}
