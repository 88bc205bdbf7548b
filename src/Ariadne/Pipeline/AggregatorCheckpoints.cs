using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using Ariadne.Pipeline.Log;
using Ariadne.Storage;

namespace Ariadne.Pipeline;

/// <summary>
/// The aggregators' checkpoint in the ingest log's directory (<c>AGGREGATES</c>): every checkpointed aggregator's
/// state and the log position it covers. The state is captured on the log's dispatch thread between two records
/// (so it is exactly the records up to that position), at most every <see cref="Configuration.IngestOptions.AggregatesCheckpointInterval"/>,
/// and written on the pipeline's tick, off that thread. The log keeps every segment past the written position, so a
/// restart restores the state and replays the rest.
/// <para>
/// Format, little-endian: magic <c>ARAG</c>, version (u16), position segment (i64) and offset (i64), part count
/// (i32), then per part its name (length-prefixed UTF-8) and bytes (i32 length, payload), and a CRC-32 of all that.
/// </para>
/// </summary>
public sealed partial class AggregatorCheckpoints
{
    public const string FileName = "AGGREGATES";
    private const uint Magic = 0x47415241; // "ARAG"
    private const ushort Version = 1;

    private readonly string _path;
    private readonly ICheckpointedAggregator[] _aggregators;
    private readonly long _intervalTicks;
    private readonly IDurableFiles _files;
    private readonly ILogger _logger;
    private readonly Lock _pendingLock = new();
    private long _lastCapture;
    private (LogPosition Position, byte[] Bytes)? _pending;
    private LogPosition _written;

    public AggregatorCheckpoints(string logDirectory, IEnumerable<IIngestAggregator> aggregators, TimeSpan interval, IDurableFiles files, ILogger logger)
    {
        _files = files;
        _path = Path.Combine(logDirectory, FileName);
        _aggregators = aggregators.OfType<ICheckpointedAggregator>().ToArray();
        _intervalTicks = (long)(interval.TotalSeconds * Stopwatch.Frequency);
        _logger = logger;
        _lastCapture = Stopwatch.GetTimestamp();
    }

    /// <summary>False when no aggregator keeps a checkpoint: then none holds the log back.</summary>
    public bool Enabled => _aggregators.Length > 0;

    /// <summary>The position the last written checkpoint covers: the log keeps the segments from there on.</summary>
    public LogPosition Written
    {
        get
        {
            lock (_pendingLock)
            {
                return _written;
            }
        }
    }

    /// <summary>
    /// Puts the saved state back into the aggregators; returns the position it covers (records past it are to be
    /// observed again), or <see cref="LogPosition.Start"/> when there is none. A checkpoint that cannot be read is
    /// set aside (<c>AGGREGATES.corrupt</c>) with a log line, and the aggregators start from what the log holds.
    /// </summary>
    public LogPosition Restore()
    {
        if (!File.Exists(_path))
        {
            return LogPosition.Start;
        }

        try
        {
            var (position, parts) = Read(File.ReadAllBytes(_path));
            foreach (var aggregator in _aggregators)
            {
                if (parts.TryGetValue(aggregator.CheckpointName, out var state))
                {
                    using var reader = new BinaryReader(new MemoryStream(state));
                    aggregator.ReadCheckpoint(reader);
                }
            }

            lock (_pendingLock)
            {
                _written = position;
            }

            return position;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            File.Move(_path, _path + ".corrupt", overwrite: true);
            LogUnreadable(_logger, _path, e.Message);
            return LogPosition.Start;
        }
    }

    /// <summary>On the dispatch thread, after the record at <paramref name="position"/> was observed: captures the state when due.</summary>
    public void Observed(LogPosition position)
    {
        if (_aggregators.Length == 0 || Stopwatch.GetTimestamp() - _lastCapture < _intervalTicks)
        {
            return;
        }

        Capture(position);
    }

    /// <summary>Captures the state now (a clean stop, once the log has dispatched everything).</summary>
    public void Capture(LogPosition position)
    {
        _lastCapture = Stopwatch.GetTimestamp();
        var bytes = Encode(position);
        lock (_pendingLock)
        {
            _pending = (position, bytes);
        }
    }

    /// <summary>
    /// Writes the last captured state, if any (temp file, fsync, rename, fsync of the directory); off the dispatch
    /// thread. A failed write keeps <see cref="Written"/> where it was, so the log keeps what the state covers.
    /// </summary>
    public void WritePending()
    {
        (LogPosition Position, byte[] Bytes)? pending;
        lock (_pendingLock)
        {
            pending = _pending;
            _pending = null;
        }

        if (pending is not { } capture)
        {
            return;
        }

        try
        {
            DurableFiles.Replace(_files, _path, capture.Bytes);
        }
        catch (IOException)
        {
            lock (_pendingLock)
            {
                _pending ??= capture; // written on the next tick, unless a newer capture replaces it
            }

            throw;
        }
        lock (_pendingLock)
        {
            _written = LogPosition.Max(_written, capture.Position);
        }
    }

    private byte[] Encode(LogPosition position)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(position.Segment);
            writer.Write(position.Offset);
            writer.Write(_aggregators.Length);
            using var part = new MemoryStream();
            foreach (var aggregator in _aggregators)
            {
                part.SetLength(0);
                using (var partWriter = new BinaryWriter(part, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    aggregator.WriteCheckpoint(partWriter);
                }

                writer.Write(aggregator.CheckpointName);
                writer.Write((int)part.Length);
                writer.Write(part.GetBuffer(), 0, (int)part.Length);
            }
        }

        var crc = Crc32.HashToUInt32(stream.GetBuffer().AsSpan(0, (int)stream.Length));
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, crc);
        stream.Write(tail);
        return stream.ToArray();
    }

    private static (LogPosition Position, Dictionary<string, byte[]> Parts) Read(byte[] bytes)
    {
        if (bytes.Length < 4 || Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4)) != BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4)))
        {
            throw new InvalidDataException("its CRC does not match (a torn or damaged write)");
        }

        using var reader = new BinaryReader(new MemoryStream(bytes, 0, bytes.Length - 4));
        if (reader.ReadUInt32() != Magic)
        {
            throw new InvalidDataException("it does not start with ARAG");
        }

        var version = reader.ReadUInt16();
        if (version != Version)
        {
            throw new InvalidDataException($"its version {version} is not {Version}, the one this build reads");
        }

        var position = new LogPosition(reader.ReadInt64(), reader.ReadInt64());
        var parts = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var count = reader.ReadInt32(); count > 0; count--)
        {
            var name = reader.ReadString();
            parts[name] = reader.ReadBytes(reader.ReadInt32());
        }

        return (position, parts);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The aggregators' checkpoint {Path} cannot be read ({Reason}); it was set aside as .corrupt, and the span metrics and service graph count again from what the ingest log holds.")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
