using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using Ariadne.Storage;

namespace Ariadne.Pipeline.Log;

/// <summary>
/// Append-only segments of length- and CRC-framed records. Appends are group-committed: records queue in memory,
/// one writer task writes whatever has queued and fsyncs once, then completes every waiter of that batch, so
/// concurrent requests share one fsync. A failed write is cut back off the file so the log never holds a torn
/// record that was acknowledged.
/// <para>
/// A record may carry an in-memory entry (the decoded batch it encodes). After the fsync, and before any waiter of
/// the batch is completed, the writer hands each entry with its <see cref="LogPosition"/> to the dispatcher, one
/// at a time and in log order: consumers see only durable records, in the order a replay would show them.
/// </para>
/// </summary>
/// <remarks>Record frame: u32 little-endian payload length, u32 CRC-32 (IEEE) of the payload, payload.</remarks>
public sealed class SegmentLog : IAsyncDisposable
{
    public const int HeaderLength = 8;
    private const string Extension = ".wal";

    /// <summary>A scratch buffer that grew past this (one huge request) is dropped rather than kept per thread.</summary>
    private const int MaxScratchBytes = 4 * 1024 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

    private readonly string _directory;
    private readonly TimeSpan _groupCommitInterval;
    private readonly long _maxSegmentBytes;
    private readonly Action<object, LogPosition>? _dispatch;
    private readonly IDurableFiles _files;
    private readonly Lock _fileLock = new();
    private readonly Lock _pendingLock = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _writer;
    private ArrayBufferWriter<byte> _pending = new(64 * 1024);
    private ArrayBufferWriter<byte> _spare = new(64 * 1024);
    private List<TaskCompletionSource> _waiters = [];
    private List<TaskCompletionSource> _spareWaiters = [];
    private List<(object Entry, int Offset)> _entries = [];
    private List<(object Entry, int Offset)> _spareEntries = [];
    private FileStream _file;
    private bool _signalled;
    private long? _tornAt;

    private SegmentLog(string directory, long segment, TimeSpan groupCommitInterval, long maxSegmentBytes, Action<object, LogPosition>? dispatch, IDurableFiles files)
    {
        _directory = directory;
        _groupCommitInterval = groupCommitInterval;
        _maxSegmentBytes = maxSegmentBytes;
        _dispatch = dispatch;
        _files = files;
        CurrentSegment = segment;
        _file = OpenSegment(segment);
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Number of the segment new records go to.</summary>
    public long CurrentSegment { get; private set; }

    /// <summary>
    /// Opens the log for appending in a new segment after every existing one. A segment that reaches
    /// <paramref name="maxSegmentBytes"/> is closed and the next batch starts a new one, so consumed segments can be
    /// deleted while appends go on. <paramref name="dispatch"/> receives each appended entry once it is durable.
    /// </summary>
    public static SegmentLog Open(string directory, TimeSpan groupCommitInterval, long maxSegmentBytes = long.MaxValue,
        Action<object, LogPosition>? dispatch = null, IDurableFiles? files = null)
    {
        Directory.CreateDirectory(directory);
        var segments = ListSegments(directory);
        var next = segments.Count == 0 ? 1 : segments[^1].Number + 1;
        return new SegmentLog(directory, next, groupCommitInterval, maxSegmentBytes, dispatch, files ?? DurableFiles.System);
    }

    /// <summary>Bytes of every segment in a log directory (0 when it does not exist).</summary>
    public static long SegmentBytes(string directory) => ListSegments(directory).Sum(s => new FileInfo(s.Path).Length);

    public static List<(long Number, string Path)> ListSegments(string directory)
    {
        var result = new List<(long, string)>();
        if (!Directory.Exists(directory))
        {
            return result;
        }

        foreach (var path in Directory.EnumerateFiles(directory, "*" + Extension))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                result.Add((number, path));
            }
        }

        result.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return result;
    }

    /// <summary>
    /// Encodes one record's payload on the calling thread (outside every lock, so concurrent appenders encode in
    /// parallel) and queues it; the task completes when it is on disk (fsynced).
    /// </summary>
    public Task AppendAsync(Action<IBufferWriter<byte>> writePayload) => AppendAsync(Encode(writePayload).Span);

    /// <summary>
    /// Queues one record whose payload is already encoded: only the copy into the queue happens under the lock.
    /// The task completes when the record is on disk (fsynced) and, with an <paramref name="entry"/>, after the
    /// dispatcher has taken it.
    /// </summary>
    public Task AppendAsync(ReadOnlySpan<byte> payload, object? entry = null)
    {
        var crc = Crc32.HashToUInt32(payload);
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool signal;
        lock (_pendingLock)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            if (entry is not null)
            {
                _entries.Add((entry, _pending.WrittenCount));
            }

            var frame = _pending.GetSpan(HeaderLength + payload.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], crc);
            payload.CopyTo(frame[HeaderLength..]);
            _pending.Advance(HeaderLength + payload.Length);
            _waiters.Add(waiter);
            signal = !_signalled;
            _signalled = true;
        }

        if (signal)
        {
            _signal.Release();
        }

        return waiter.Task;
    }

    /// <summary>
    /// Encodes a payload into this thread's scratch buffer, for callers that must append under a lock of their own
    /// and want the encoding done before taking it. The memory is valid until the next <see cref="Encode"/> on the
    /// same thread: pass it to <see cref="AppendAsync(ReadOnlySpan{byte})"/> before any await.
    /// </summary>
    public static ReadOnlyMemory<byte> Encode(Action<IBufferWriter<byte>> writePayload)
    {
        var buffer = t_scratch;
        if (buffer is null || buffer.Capacity > MaxScratchBytes)
        {
            t_scratch = buffer = new ArrayBufferWriter<byte>(64 * 1024);
        }

        buffer.ResetWrittenCount();
        writePayload(buffer);
        return buffer.WrittenMemory;
    }

    /// <summary>
    /// Writes and fsyncs everything queued, then starts a new segment. Returns the number of the sealed segment:
    /// every record queued before this call is in it or an earlier one.
    /// </summary>
    public long Rotate()
    {
        lock (_fileLock)
        {
            WriteQueuedLocked();
            var sealedSegment = CurrentSegment;
            StartNextSegment();
            return sealedSegment;
        }
    }

    /// <summary>
    /// Deletes segments up to and including <paramref name="segment"/>: no consumer needs their records. Oldest first,
    /// stopping at the first that cannot be deleted (the exception says why; the caller retries later): the log on
    /// disk stays one run of segments. A hole would hide a tail decision from replay while the spans it decided are
    /// still there, and they would be decided, and stored, again.
    /// </summary>
    public void DeleteThrough(long segment)
    {
        foreach (var (number, path) in ListSegments(_directory))
        {
            if (number > segment || number == CurrentSegment)
            {
                break;
            }

            _files.DeleteFile(path);
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_pendingLock)
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            _stop.Cancel();
        }

        _signal.Release();
        await _writer;
        lock (_fileLock)
        {
            WriteQueuedLocked();
            _file.Dispose();
        }

        _stop.Dispose();
        _signal.Dispose();
    }

    private FileStream OpenSegment(long segment) =>
        _files.OpenAppend(Path.Combine(_directory, segment.ToString("D10", CultureInfo.InvariantCulture) + Extension));

    /// <summary>
    /// Continues in the next segment. The new file is opened before the current one is closed: when it cannot be
    /// created (a full disk) this throws and the log keeps appending where it was, so the writer never holds a closed file.
    /// </summary>
    private void StartNextSegment()
    {
        var next = OpenSegment(CurrentSegment + 1);
        _file.Dispose();
        _file = next;
        CurrentSegment++;
    }

    private async Task WriteLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await _signal.WaitAsync().ConfigureAwait(false);
            if (_groupCommitInterval > TimeSpan.Zero && !_stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(_groupCommitInterval, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Disposal writes what is queued.
                }
            }

            lock (_fileLock)
            {
                WriteQueuedLocked();
            }
        }
    }

    /// <summary>Caller holds <see cref="_fileLock"/>. Swaps the queue out, writes it, fsyncs, completes the waiters.</summary>
    private void WriteQueuedLocked()
    {
        ArrayBufferWriter<byte> batch;
        List<TaskCompletionSource> waiters;
        List<(object Entry, int Offset)> entries;
        lock (_pendingLock)
        {
            _signalled = false;
            if (_waiters.Count == 0)
            {
                return;
            }

            batch = _pending;
            waiters = _waiters;
            entries = _entries;
            _pending = _spare;
            _waiters = _spareWaiters;
            _entries = _spareEntries;
        }

        Exception? failure = null;
        long start = 0;
        try
        {
            RepairAfterFailure();
            if (_file.Length >= _maxSegmentBytes)
            {
                StartNextSegment();
            }

            var length = start = _file.Length;
            try
            {
                _files.Write(_file, batch.WrittenSpan);
                _files.Sync(_file);
            }
            catch (Exception e) when (IsWriteFailure(e))
            {
                _tornAt = length;
                throw;
            }
        }
        catch (Exception e) when (IsWriteFailure(e))
        {
            failure = e;
        }

        if (failure is null && _dispatch is not null)
        {
            foreach (var (entry, offset) in entries)
            {
                _dispatch(entry, new LogPosition(CurrentSegment, start + offset));
            }
        }

        foreach (var waiter in waiters)
        {
            if (failure is null)
            {
                waiter.TrySetResult();
            }
            else
            {
                waiter.TrySetException(new LogUnavailableException(
                    $"The log in '{_directory}' could not be written ({failure.Message}); free disk space or fix the disk, then retry.", failure));
            }
        }

        batch.Clear();
        waiters.Clear();
        entries.Clear();
        lock (_pendingLock)
        {
            _spare = batch;
            _spareWaiters = waiters;
            _spareEntries = entries;
        }
    }

    /// <summary>
    /// What a failed write(2) or fsync(2) surfaces as: ENOSPC and EIO as IOException, EFBIG (a file size limit) as
    /// ArgumentOutOfRangeException, EACCES/EROFS as UnauthorizedAccessException. Each must fail the batch's waiters,
    /// never the writer loop, or every later append would wait forever.
    /// </summary>
    private static bool IsWriteFailure(Exception e) => e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException;

    /// <summary>
    /// After a failed write the file may end in a partial record. Cut it off; if even that fails, continue in a
    /// new segment (replay drops a torn tail and moves on to the next segment), so no later record sits behind garbage.
    /// When no new segment can be created either, this throws: the batch fails and the repair is tried again with
    /// the next one.
    /// </summary>
    private void RepairAfterFailure()
    {
        if (_tornAt is not { } length)
        {
            return;
        }

        try
        {
            _files.Truncate(_file, length);
            _files.Sync(_file);
        }
        catch (Exception e) when (IsWriteFailure(e))
        {
            StartNextSegment();
        }

        _tornAt = null;
    }
}
