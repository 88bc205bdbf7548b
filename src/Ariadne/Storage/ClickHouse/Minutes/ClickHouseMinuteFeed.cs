using System.Globalization;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Pipeline.Log;

namespace Ariadne.Storage.ClickHouse.Minutes;

/// <summary>
/// RED per operation and dependency edges per minute, counted from every span before tail sampling and written to
/// ClickHouse (<c>call_minutes</c>, <c>edge_minutes</c>), so rates and the service map stay exact while ClickHouse
/// keeps a sample, and dependencies over a day read a small table instead of joining spans.
/// <para>
/// <b>Once, across crashes.</b> Every row carries this node's id and the ingest-log position its figures reach. At
/// start-up the feed reads the highest position each table holds for the node; records the log replays up to it
/// are observed again (they rebuild the pairing) but add nothing, so a crash between an INSERT and the aggregators'
/// checkpoint never counts twice. One INSERT per table lands on one shard (sharded by node), so it is all there or
/// not at all. Figures not yet written are part of the aggregators' checkpoint, so the log may drop what they cover.
/// A retried INSERT first reads the position back: an INSERT that timed out but landed is not sent again.
/// </para>
/// </summary>
public sealed partial class ClickHouseMinuteFeed : ICheckpointedAggregator, IPositionedAggregator, IAsyncDisposable
{
    private const byte CheckpointVersion = 1;

    private readonly ClickHouseSpanStore _store;
    private readonly string _node;
    private readonly bool _fedFromLog;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly ParentChildPairing _pairing;
    private readonly MinuteFigures _record = new();
    private MinuteFigures _pending = new();
    private LogPosition _pendingThrough;
    private readonly List<Chunk> _unwritten = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _writer;
    private readonly Task<(LogPosition Calls, LogPosition Edges)> _stored;
    private int _disposed;

    /// <param name="node">This Ariadne node's id: its ingest log's positions mean something only with it.</param>
    /// <param name="fedFromLog">True when the pipeline runs an ingest log (it then calls <see cref="ObservedAt"/> after each record).</param>
    public ClickHouseMinuteFeed(ClickHouseSpanStore store, string node, bool fedFromLog, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        _store = store;
        _node = node;
        _fedFromLog = fedFromLog;
        _interval = interval;
        _logger = logger;
        _pairing = new ParentChildPairing(time);
        store.HasMinuteFeed = true;
        _stored = fedFromLog ? Task.Run(ReadStoredPositionsAsync) : Task.FromResult((LogPosition.Start, LogPosition.Start));
        _writer = Task.Run(() => RunAsync(_stopping.Token));
    }

    public string CheckpointName => "clickhouse-minutes";

    /// <summary>
    /// The node id kept in the ingest log's directory (created on first use): its positions mean something only with
    /// this id, so a log deleted and started afresh comes with a new id, never with positions ClickHouse already holds.
    /// </summary>
    public static string NodeIdIn(string logDirectory)
    {
        var path = Path.Combine(logDirectory, "CLICKHOUSE_NODE");
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } existing)
        {
            return existing;
        }

        Directory.CreateDirectory(logDirectory);
        var id = Guid.NewGuid().ToString("N");
        DurableFiles.Replace(DurableFiles.System, path, System.Text.Encoding.UTF8.GetBytes(id));
        return id;
    }

    public void Observe(string tenant, IReadOnlyList<Span> spans)
    {
        lock (_lock)
        {
            var into = _fedFromLog ? _record : _pending;
            foreach (var span in spans)
            {
                into.AddCall(new CallKey(tenant, span.ServiceName, span.Name, span.Kind, ParentChildPairing.MinuteOf(span.StartTimeUnixNano)), span.IsError, Math.Max(0, span.DurationNanos));
            }

            _pairing.Pair(tenant, spans, into.AddEdge);
        }
    }

    public void ObservedAt(LogPosition position)
    {
        // Read at start-up, while the log replays; the first record waits for it only if it has not come back yet.
        var stored = _stored.GetAwaiter().GetResult();
        lock (_lock)
        {
            // A record the log replays below what ClickHouse holds was counted there before the crash.
            if (position > stored.Calls)
            {
                _pending.AddCallsOf(_record);
            }

            if (position > stored.Edges)
            {
                _pending.AddEdgesOf(_record);
            }

            _record.Clear();
            _pendingThrough = position;
        }
    }

    public void WriteCheckpoint(BinaryWriter writer)
    {
        lock (_lock)
        {
            writer.Write(CheckpointVersion);
            var chunks = _unwritten.Where(c => !c.Written).ToList();
            if (!_pending.IsEmpty)
            {
                chunks.Add(new Chunk(_pending, _pendingThrough));
            }

            writer.Write(chunks.Count);
            foreach (var chunk in chunks)
            {
                writer.Write(chunk.Through.Segment);
                writer.Write(chunk.Through.Offset);
                writer.Write(chunk.CallsWritten);
                writer.Write(chunk.EdgesWritten);
                chunk.Figures.Write(writer);
            }
        }
    }

    public void ReadCheckpoint(BinaryReader reader)
    {
        if (reader.ReadByte() != CheckpointVersion)
        {
            throw new InvalidDataException($"the ClickHouse minutes' part is not version {CheckpointVersion}");
        }

        lock (_lock)
        {
            for (var count = reader.ReadInt32(); count > 0; count--)
            {
                var through = new LogPosition(reader.ReadInt64(), reader.ReadInt64());
                var callsWritten = reader.ReadBoolean();
                var edgesWritten = reader.ReadBoolean();
                _unwritten.Add(new Chunk(MinuteFigures.Read(reader), through) { CallsWritten = callsWritten, EdgesWritten = edgesWritten });
            }
        }
    }

    /// <summary>Writes everything observed so far (tests, and a clean stop).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        Seal();
        await WriteUnwrittenAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        // The container holds the feed twice (as itself and as an aggregator) and disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _writer;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await FlushAsync(timeout.Token);
        }
        catch (Exception e) when (e is ClickHouseException or HttpRequestException or OperationCanceledException)
        {
            // What is not written is in the aggregators' checkpoint, or in the log past it.
            LogWriteFailed(_logger, e.Message);
        }

        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var delay = _interval;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, stopping);
                await FlushAsync(stopping);
                delay = _interval;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is ClickHouseException or HttpRequestException or OperationCanceledException or StorageUnavailableException)
            {
                LogWriteFailed(_logger, e.Message);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    private void Seal()
    {
        lock (_lock)
        {
            if (!_pending.IsEmpty)
            {
                _unwritten.Add(new Chunk(_pending, _pendingThrough));
                _pending = new MinuteFigures();
            }
        }
    }

    private async Task WriteUnwrittenAsync(CancellationToken cancellationToken)
    {
        List<Chunk> chunks;
        lock (_lock)
        {
            chunks = [.. _unwritten];
        }

        var schema = await _store.InitializeAsync(cancellationToken);
        foreach (var chunk in chunks)
        {
            if (!chunk.CallsWritten)
            {
                await WriteAsync(schema, "call_minutes", chunk, CallRows(chunk), cancellationToken);
                chunk.CallsWritten = true;
            }

            if (!chunk.EdgesWritten)
            {
                await WriteAsync(schema, "edge_minutes", chunk, EdgeRows(chunk), cancellationToken);
                chunk.EdgesWritten = true;
            }

            lock (_lock)
            {
                _unwritten.Remove(chunk);
            }
        }
    }

    private async Task WriteAsync(ClickHouseSchema schema, string table, Chunk chunk, (string Columns, RowBinaryWriter Rows)? rows, CancellationToken cancellationToken)
    {
        if (rows is not { } insert)
        {
            return;
        }

        // Through a log, a chunk at or below what the table holds for this node is there already: a restored chunk
        // written before the crash, or an INSERT that timed out after it landed.
        if (_fedFromLog && chunk.Through <= await StoredPositionAsync(schema, table, cancellationToken))
        {
            return;
        }

        await _store.InsertAsync($"INSERT INTO {schema.Table(table)} ({insert.Columns}) FORMAT RowBinary", insert.Rows.WrittenMemory, schema.InsertSettings, cancellationToken);
    }

    private (string, RowBinaryWriter)? CallRows(Chunk chunk)
    {
        if (chunk.Figures.Calls.Count == 0)
        {
            return null;
        }

        var writer = new RowBinaryWriter(64 * 1024);
        foreach (var (key, figures) in chunk.Figures.Calls)
        {
            WriteOrigin(writer, chunk.Through);
            writer.String(key.Tenant);
            writer.String(key.Service);
            writer.String(key.Name);
            writer.UInt8((byte)key.Kind);
            writer.UInt32((uint)key.Minute);
            writer.UInt64((ulong)figures.Calls);
            writer.UInt64((ulong)figures.Errors);
            writer.UInt64((ulong)figures.DurationSum);
            writer.ArrayLength(figures.Buckets.Length);
            foreach (var count in figures.Buckets)
            {
                writer.UInt64((ulong)count);
            }
        }

        return ("node, through_segment, through_offset, tenant, service, name, kind, minute, calls, errors, duration_sum, duration_buckets", writer);
    }

    private (string, RowBinaryWriter)? EdgeRows(Chunk chunk)
    {
        if (chunk.Figures.Edges.Count == 0)
        {
            return null;
        }

        var writer = new RowBinaryWriter(16 * 1024);
        foreach (var (key, figures) in chunk.Figures.Edges)
        {
            WriteOrigin(writer, chunk.Through);
            writer.String(key.Tenant);
            writer.String(key.Parent);
            writer.String(key.Child);
            writer.UInt32((uint)key.Minute);
            writer.UInt64((ulong)figures.Calls);
            writer.UInt64((ulong)figures.Errors);
        }

        return ("node, through_segment, through_offset, tenant, parent, child, minute, calls, errors", writer);
    }

    private void WriteOrigin(RowBinaryWriter writer, LogPosition through)
    {
        writer.String(_node);
        writer.UInt64((ulong)through.Segment);
        writer.UInt64((ulong)through.Offset);
    }

    /// <summary>What each table holds for this node, read once at start-up.</summary>
    private async Task<(LogPosition Calls, LogPosition Edges)> ReadStoredPositionsAsync()
    {
        try
        {
            var schema = await _store.InitializeAsync(_stopping.Token);
            return (await StoredPositionAsync(schema, "call_minutes", _stopping.Token), await StoredPositionAsync(schema, "edge_minutes", _stopping.Token));
        }
        catch (Exception e) when (e is ClickHouseException or HttpRequestException or OperationCanceledException or StorageUnavailableException)
        {
            // Cannot tell: count the replayed records (a replay while ClickHouse is away may count some twice).
            LogPositionUnknown(_logger, e.Message);
            return (LogPosition.Start, LogPosition.Start);
        }
    }

    private async Task<LogPosition> StoredPositionAsync(ClickHouseSchema schema, string table, CancellationToken cancellationToken)
    {
        var rows = await _store.QueryRowsAsync(
            $"SELECT through_segment, through_offset FROM {schema.Table(table)} WHERE node = {ClickHouseSql.Quote(_node)} ORDER BY through_segment DESC, through_offset DESC LIMIT 1",
            cancellationToken);
        return rows.Count == 0
            ? LogPosition.Start
            : new LogPosition(long.Parse(rows[0][0], CultureInfo.InvariantCulture), long.Parse(rows[0][1], CultureInfo.InvariantCulture));
    }

    /// <summary>Figures up to a log position, and which tables have them.</summary>
    private sealed record Chunk(MinuteFigures Figures, LogPosition Through)
    {
        public bool CallsWritten { get; set; }

        public bool EdgesWritten { get; set; }

        public bool Written => CallsWritten && EdgesWritten;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ClickHouse minutes (pre-sampling RED and edges) not written yet, retrying: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ClickHouse minutes: cannot read how far ClickHouse holds this node's figures ({Reason}); records replayed from the log are counted again.")]
    private static partial void LogPositionUnknown(ILogger logger, string reason);
}
