using Ariadne.Model;
using Ariadne.Pipeline.Log;

namespace Ariadne.Storage.ClickHouse;

/// <summary>
/// The engine as a consumer of the ingest log: <see cref="Take"/> queues what the log hands it (on the log's thread,
/// never blocking), one writer INSERTs the queue in log order, and <see cref="DurableThrough"/> moves past each
/// batch once ClickHouse has it. While ClickHouse is away the writer retries with backoff and the log keeps
/// everything; past <see cref="ClickHouseOptions.MaxBacklogSpans"/> queued spans, ingest is refused (503) until the
/// queue drains. A crash after an INSERT but before the pipeline deleted the log segments inserts those spans again
/// on restart; reads drop the duplicate rows (<c>LIMIT 1 BY trace_id, span_id</c>).
/// </summary>
public sealed partial class ClickHouseSpanStore
{
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(2);
    private readonly Lock _feedLock = new();
    private readonly Queue<(string Tenant, IReadOnlyList<Span> Spans, LogPosition Position)> _feed = new();
    private readonly SemaphoreSlim _feedSignal = new(0);
    private readonly CancellationTokenSource _feedStop = new();
    private Task? _feedWriter;
    private long _feedSpans;
    private LogPosition _feedTaken;
    private LogPosition _feedDurable;

    public void Take(string tenant, IReadOnlyList<Span> spans, LogPosition position)
    {
        lock (_feedLock)
        {
            _feedTaken = position;
            if (spans.Count == 0)
            {
                return;
            }

            _feed.Enqueue((tenant, spans, position));
            _feedSpans += spans.Count;
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
                return _feed.Count == 0 ? _feedTaken : _feedDurable;
            }
        }
    }

    public string? Backlog
    {
        get
        {
            var queued = Interlocked.Read(ref _feedSpans);
            return queued < _options.MaxBacklogSpans
                ? null
                : $"ClickHouse is {queued} spans behind (ClickHouse:MaxBacklogSpans {_options.MaxBacklogSpans}), so new spans are refused until it catches up; check that ClickHouse at {_options.Url} is up.";
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
            while (!_feedStop.IsCancellationRequested && NextBatch(writer) is var (count, spans, through) && count > 0)
            {
                try
                {
                    await InsertAsync(insert, writer.WrittenMemory, schema.InsertSettings, _feedStop.Token);
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
                    for (var i = 0; i < count; i++)
                    {
                        _feed.Dequeue();
                    }

                    _feedSpans -= spans;
                    _feedDurable = through;
                }
            }
        }
    }

    /// <summary>Encodes the queue's head, up to MaxBatchSpans (at least one entry), without dequeuing it: a failed INSERT is retried whole.</summary>
    private (int Count, long Spans, LogPosition Through) NextBatch(RowBinaryWriter writer)
    {
        writer.Reset();
        lock (_feedLock)
        {
            var count = 0;
            long spans = 0;
            var through = _feedDurable;
            foreach (var (tenant, batch, position) in _feed)
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
                through = position;
            }

            return (count, spans, through);
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
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ClickHouse is unavailable; acknowledged spans wait in the ingest log and are retried: {Message}")]
    private static partial void LogFeedUnavailable(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "ClickHouse at {Url} is back; inserting what the ingest log handed meanwhile.")]
    private static partial void LogFeedRecovered(ILogger logger, string url);
}
