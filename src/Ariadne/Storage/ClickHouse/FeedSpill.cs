using Ariadne.Model;
using Ariadne.Pipeline.Log;

namespace Ariadne.Storage.ClickHouse;

/// <summary>
/// Where the ClickHouse feed keeps what it takes while ClickHouse is away and its queue in memory is full: RowBinary
/// files in <c>clickhouse-spill/</c>, ready to INSERT as they are, oldest first. Not a log: the ingest log holds every
/// span until ClickHouse has it, so the files are never fsynced, and a start deletes them (the log hands their spans
/// again). Not thread-safe: the feed calls it under its lock, except <see cref="Read"/> of a closed chunk.
/// </summary>
internal sealed class FeedSpill : IDisposable
{
    private readonly string _directory;
    private readonly long _chunkSpans;
    private readonly Queue<Chunk> _closed = new();
    private readonly RowBinaryWriter _rows = new(1 << 16);
    private FileStream? _open;
    private Chunk? _openChunk;
    private long _next;

    public FeedSpill(string directory, long chunkSpans)
    {
        _directory = directory;
        _chunkSpans = chunkSpans;
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public bool IsEmpty => _closed.Count == 0 && _openChunk is null;

    public long Spans { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>The taken position before the oldest spilled record: everything up to it may be in ClickHouse.</summary>
    public LogPosition? OldestBefore => _closed.TryPeek(out var oldest) ? oldest.Before : _openChunk?.Before;

    /// <summary>
    /// Appends spans taken at <paramref name="position"/> (after <paramref name="before"/>) to the open chunk, closed
    /// once it holds a batch's worth. A failed write is cut back off the file and rethrown: the caller keeps the spans.
    /// </summary>
    public void Append(string tenant, IReadOnlyList<Span> spans, LogPosition before, LogPosition position)
    {
        _rows.Reset();
        foreach (var span in spans)
        {
            SpanRows.Write(_rows, tenant, span);
        }

        if (_open is null)
        {
            Directory.CreateDirectory(_directory);
            var path = Path.Combine(_directory, $"{_next++:D10}.rowbinary");
            _open = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
            _openChunk = new Chunk(path, 0, 0, before, position);
        }

        var length = _open.Position;
        try
        {
            _open.Write(_rows.WrittenMemory.Span);
            _open.Flush();
        }
        catch (IOException)
        {
            _open.SetLength(length);
            _open.Position = length;
            throw;
        }

        _openChunk = _openChunk! with { Spans = _openChunk.Spans + spans.Count, Bytes = _openChunk.Bytes + _rows.WrittenCount, Through = position };
        Spans += spans.Count;
        Bytes += _rows.WrittenCount;
        if (_openChunk.Spans >= _chunkSpans)
        {
            Close();
        }
    }

    /// <summary>The oldest chunk, closing the open one when it is all there is; false when nothing is spilled.</summary>
    public bool TryPeek(out Chunk chunk)
    {
        if (_closed.Count == 0 && _openChunk is not null)
        {
            Close();
        }

        return _closed.TryPeek(out chunk!);
    }

    /// <summary>A closed chunk's rows (safe outside the feed's lock: a closed file does not change).</summary>
    public static byte[] Read(Chunk chunk) => File.ReadAllBytes(chunk.Path);

    /// <summary>Drops the oldest chunk once ClickHouse has it.</summary>
    public void Remove(Chunk chunk)
    {
        _closed.Dequeue();
        Spans -= chunk.Spans;
        Bytes -= chunk.Bytes;
        File.Delete(chunk.Path);
    }

    private void Close()
    {
        _open!.Dispose();
        _open = null;
        _closed.Enqueue(_openChunk!);
        _openChunk = null;
    }

    /// <summary>One spill file: its rows, and the log position of the last record in it.</summary>
    public sealed record Chunk(string Path, long Spans, long Bytes, LogPosition Before, LogPosition Through);

    public void Dispose() => _open?.Dispose();
}
