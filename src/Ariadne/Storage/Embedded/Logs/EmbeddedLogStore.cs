using System.Buffers;
using System.Globalization;
using Ariadne.Model;
using Ariadne.Pipeline.Log;

namespace Ariadne.Storage.Embedded.Logs;

/// <summary>
/// The embedded engine's log records: append-only, CRC-framed segment files in one directory per UTC day of arrival
/// (<c>logs/yyyy-MM-dd/NNNNNNNNNN.wal</c>), written by the engine's <see cref="SegmentLog"/> (group commit; an acked
/// record is fsynced) and read back with <see cref="SegmentReader"/>. Each record holds one trace's log records from one
/// request (<see cref="LogRecordCodec"/>). An in-memory index maps (tenant, trace id) to the segments holding its
/// records; it is rebuilt from the segment headers on open. Retention drops whole days once the newest record a day
/// can hold is older than <see cref="EmbeddedStorageOptions.DetailedRetention"/>, the spans' retention.
/// </summary>
public sealed partial class EmbeddedLogStore : ILogStore
{
    public const string DirectoryName = "logs";
    private const string DayFormat = "yyyy-MM-dd";

    private readonly string _directory;
    private readonly EmbeddedStorageOptions _options;
    private readonly long _segmentBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Tenant, TraceId TraceId), List<SegmentRef>> _index = [];
    private readonly List<Task> _retiring = [];
    private readonly ITimer _retentionTimer;
    private SegmentLog? _wal;
    private DateOnly _walDay;
    private long _walBytes;
    private bool _disposed;

    private EmbeddedLogStore(string dataDirectory, EmbeddedStorageOptions options, long segmentBytes, TimeProvider time, ILogger logger)
    {
        DataDirectoryFormat.EnsureCompatible(dataDirectory);
        _directory = Path.Combine(dataDirectory, DirectoryName);
        Directory.CreateDirectory(_directory);
        _options = options;
        _segmentBytes = segmentBytes;
        _time = time;
        _logger = logger;
        RebuildIndex();
        ApplyRetention();
        _retentionTimer = time.CreateTimer(_ => RunRetention(), null, options.RetentionInterval, options.RetentionInterval);
    }

    /// <summary>Opens (creating if needed) the log segments under <paramref name="dataDirectory"/>/logs.</summary>
    public static EmbeddedLogStore Open(string dataDirectory, EmbeddedStorageOptions options, long segmentBytes, TimeProvider time, ILogger logger) =>
        new(dataDirectory, options, segmentBytes, time, logger);

    public async ValueTask AppendAsync(string tenant, IReadOnlyList<LogRecord> records, CancellationToken cancellationToken)
    {
        // Encoding and compression happen outside the lock; only the queueing is serialized.
        var encoded = new List<(TraceId TraceId, byte[] Payload)>();
        foreach (var trace in records.GroupBy(record => record.TraceId))
        {
            encoded.Add((trace.Key, LogRecordCodec.Encode(tenant, trace.Key, trace.ToList())));
        }

        var durable = new Task[encoded.Count];
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var wal = CurrentWal();
            var segment = new SegmentRef(_walDay, wal.CurrentSegment);
            for (var i = 0; i < encoded.Count; i++)
            {
                var payload = encoded[i].Payload;
                durable[i] = wal.AppendAsync(payload);
                AddToIndex(tenant, encoded[i].TraceId, segment);
                _walBytes += SegmentLog.HeaderLength + payload.Length;
            }

            // Records queued before Rotate are written into the segment they were indexed under.
            if (_walBytes >= _segmentBytes)
            {
                wal.Rotate();
                _walBytes = 0;
            }
        }

        await Task.WhenAll(durable).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<LogRecord>> GetTraceLogsAsync(string tenant, TraceId traceId, CancellationToken cancellationToken)
    {
        SegmentRef[] segments;
        lock (_lock)
        {
            if (!_index.TryGetValue((tenant, traceId), out var refs))
            {
                return [];
            }

            segments = [.. refs];
        }

        var tenantUtf8 = System.Text.Encoding.UTF8.GetBytes(tenant);
        var found = new List<LogRecord>();
        var problems = new List<string>();
        foreach (var segment in segments)
        {
            var bytes = await ReadSegmentAsync(SegmentPath(segment), cancellationToken).ConfigureAwait(false);
            // The segment being written may end in a record that is still being written: it is not acked yet, and
            // the frame check stops before it, so problems found here are not damage.
            SegmentReader.ReadSegment(segment.ToString(), bytes, payload =>
            {
                if (LogRecordCodec.Matches(payload, tenantUtf8, traceId))
                {
                    LogRecordCodec.Decode(payload, traceId, found);
                }
            }, problems);
        }

        return LogOrder.ByTime(found);
    }

    /// <summary>Deletes the days whose newest possible record is older than the detailed retention; returns how many.</summary>
    public int ApplyRetention()
    {
        var cutoff = _time.GetUtcNow() - _options.DetailedRetention;
        var deleted = 0;
        foreach (var (day, path) in ListDays())
        {
            var dayEnd = new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            if (dayEnd > cutoff)
            {
                continue;
            }

            lock (_lock)
            {
                if (_wal is not null && _walDay == day)
                {
                    continue;
                }

                foreach (var key in _index.Keys.ToList())
                {
                    var refs = _index[key];
                    refs.RemoveAll(r => r.Day == day);
                    if (refs.Count == 0)
                    {
                        _index.Remove(key);
                    }
                }
            }

            Directory.Delete(path, recursive: true);
            LogDayDeleted(_logger, day.ToString(DayFormat, CultureInfo.InvariantCulture));
            deleted++;
        }

        return deleted;
    }

    /// <summary>Bytes of log segments on disk.</summary>
    public long DiskBytes() =>
        ListDays().Sum(day => Directory.EnumerateFiles(day.Path).Sum(file => new FileInfo(file).Length));

    public async ValueTask DisposeAsync()
    {
        SegmentLog? wal;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            wal = _wal;
            _wal = null;
        }

        await _retentionTimer.DisposeAsync().ConfigureAwait(false);
        if (wal is not null)
        {
            await wal.DisposeAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(_retiring).ConfigureAwait(false);
    }

    /// <summary>Caller holds <see cref="_lock"/>. The WAL of today's directory, moving on to a new day's if needed.</summary>
    private SegmentLog CurrentWal()
    {
        var today = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);
        if (_wal is not null && _walDay == today)
        {
            return _wal;
        }

        if (_wal is not null)
        {
            // Disposal writes what is queued and completes its waiters; DisposeAsync awaits it.
            _retiring.Add(_wal.DisposeAsync().AsTask());
        }

        _wal = SegmentLog.Open(DayPath(today), _options.GroupCommitInterval);
        _walDay = today;
        _walBytes = 0;
        return _wal;
    }

    private void AddToIndex(string tenant, TraceId traceId, SegmentRef segment)
    {
        if (!_index.TryGetValue((tenant, traceId), out var refs))
        {
            _index.Add((tenant, traceId), [segment]);
        }
        else if (refs[^1] != segment)
        {
            refs.Add(segment);
        }
    }

    private void RebuildIndex()
    {
        foreach (var (day, path) in ListDays())
        {
            var problems = SegmentReader.Replay(path, (position, payload) =>
            {
                var (tenant, traceId) = LogRecordCodec.ReadKey(payload);
                AddToIndex(tenant, traceId, new SegmentRef(day, position.Segment));
            });
            foreach (var problem in problems)
            {
                LogTornRecord(_logger, path, problem);
            }
        }
    }

    private void RunRetention()
    {
        try
        {
            ApplyRetention();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogRetentionFailed(_logger, e.Message, e);
        }
    }

    private List<(DateOnly Day, string Path)> ListDays()
    {
        var days = new List<(DateOnly, string)>();
        foreach (var path in Directory.EnumerateDirectories(_directory))
        {
            if (DateOnly.TryParseExact(Path.GetFileName(path), DayFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                days.Add((day, path));
            }
        }

        days.Sort();
        return days;
    }

    private string DayPath(DateOnly day) => Path.Combine(_directory, day.ToString(DayFormat, CultureInfo.InvariantCulture));

    private string SegmentPath(SegmentRef segment) =>
        Path.Combine(DayPath(segment.Day), segment.Segment.ToString("D10", CultureInfo.InvariantCulture) + ".wal");

    private static async Task<byte[]> ReadSegmentAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            // The writer holds the segment open for appending; retention may delete it meanwhile.
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, useAsync: true);
            var bytes = new byte[file.Length];
            await file.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            return bytes;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
    }

    private readonly record struct SegmentRef(DateOnly Day, long Segment)
    {
        public override string ToString() => $"{Day.ToString(DayFormat, CultureInfo.InvariantCulture)}/{Segment:D10}.wal";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Log retention: deleted the log records that arrived on {Day}.")]
    private static partial void LogDayDeleted(ILogger logger, string day);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Log segments in {Directory}: {Problem}")]
    private static partial void LogTornRecord(ILogger logger, string directory, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Log retention failed ({Reason}); it is retried at the next interval.")]
    private static partial void LogRetentionFailed(ILogger logger, string reason, Exception exception);
}
