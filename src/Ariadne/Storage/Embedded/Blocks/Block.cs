using System.Collections.Concurrent;
using System.IO.Hashing;
using Ariadne.Model;
using Ariadne.Storage.Embedded.Encoding;
using Ariadne.Storage.Embedded.Retention;
using ParquetSharp;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// An immutable block on disk. Queries use its metadata to skip it, the bloom filter and the row-group trace-id
/// ranges to find a trace in one row group, and read only the columns a search needs until a row is a candidate.
/// Reference-counted: the block list holds one reference and each query another, so compaction and retention
/// delete files only when no query still reads them.
/// </summary>
public sealed class Block
{
    private readonly ConcurrentBag<ParquetFileReader> _readers = [];
    private readonly ConcurrentDictionary<byte[], Resource> _resources = new(ByteArrayComparer.Instance);
    private readonly ConcurrentDictionary<byte[], InstrumentationScope> _scopes = new(ByteArrayComparer.Instance);
    private readonly TraceId[] _rowGroupMin;
    private readonly TraceId[] _rowGroupMax;
    private readonly BloomFilter _bloom;
    private int _references = 1;
    private bool _deleteWhenReleased;

    private Block(string directory, BlockMeta meta, BloomFilter bloom)
    {
        Directory = directory;
        Meta = meta;
        _bloom = bloom;
        _rowGroupMin = meta.RowGroups.Select(r => Parse(r.MinTraceId)).ToArray();
        _rowGroupMax = meta.RowGroups.Select(r => Parse(r.MaxTraceId)).ToArray();
        Aggregates = Retention.Aggregates.FromDocument(meta.Aggregates);
        meta.Aggregates = null;
    }

    public string Directory { get; }

    public BlockMeta Meta { get; }

    public Aggregates Aggregates { get; }

    public string Id => Meta.Id;

    public long DiskBytes => Meta.DataBytes + Meta.BloomBytes;

    /// <summary>
    /// Opens a block; with <paramref name="verifyData"/> also checks the data file's CRC. Throws
    /// <see cref="InvalidDataException"/> naming what is wrong when the block is damaged.
    /// </summary>
    public static Block Open(string directory, bool verifyData)
    {
        var metaPath = Path.Combine(directory, BlockMeta.FileName);
        BlockMeta meta;
        try
        {
            meta = BlockMeta.Read(metaPath);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{BlockMeta.FileName} is not valid JSON ({e.Message})", e);
        }

        if (meta.FormatVersion != DataDirectoryFormat.CurrentVersion)
        {
            throw new InvalidDataException($"block format version {meta.FormatVersion}, this build reads {DataDirectoryFormat.CurrentVersion}");
        }

        var bloomBytes = File.ReadAllBytes(Path.Combine(directory, BlockMeta.BloomFileName));
        if (bloomBytes.Length != meta.BloomBytes || Crc32.HashToUInt32(bloomBytes) != meta.BloomCrc32)
        {
            throw new InvalidDataException($"{BlockMeta.BloomFileName} does not match its checksum");
        }

        var dataPath = Path.Combine(directory, BlockMeta.DataFileName);
        var length = new FileInfo(dataPath).Length;
        if (length != meta.DataBytes)
        {
            throw new InvalidDataException($"{BlockMeta.DataFileName} is {length} bytes, its metadata says {meta.DataBytes} (truncated?)");
        }

        if (verifyData && BlockWriter.Checksum(dataPath).Crc != meta.DataCrc32)
        {
            throw new InvalidDataException($"{BlockMeta.DataFileName} does not match its CRC-32 (bytes changed on disk)");
        }

        return new Block(directory, meta, BloomFilter.FromBytes(bloomBytes));
    }

    public bool TryAcquire()
    {
        lock (_readers)
        {
            if (_references == 0)
            {
                return false;
            }

            _references++;
            return true;
        }
    }

    public void Release()
    {
        bool delete;
        lock (_readers)
        {
            _references--;
            delete = _references == 0;
        }

        if (delete)
        {
            while (_readers.TryTake(out var reader))
            {
                reader.Dispose();
            }

            if (_deleteWhenReleased && System.IO.Directory.Exists(Directory))
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
        }
    }

    /// <summary>Drops the block list's reference; the files go once the last query using them is done.</summary>
    public void RetireAndDelete()
    {
        _deleteWhenReleased = true;
        Release();
    }

    public bool OverlapsTime(long fromNanos, long toNanos) =>
        Meta.SpanCount > 0 && Meta.MaxStartUnixNano >= fromNanos && Meta.MinStartUnixNano <= toNanos;

    /// <summary>The spans of a trace in this block; empty when absent.</summary>
    public List<Span> GetTrace(TraceId traceId)
    {
        if (!_bloom.MayContain(traceId))
        {
            return [];
        }

        var rowGroup = FindRowGroup(traceId);
        if (rowGroup < 0)
        {
            return [];
        }

        return UseReader(reader =>
        {
            using var group = reader.RowGroup(rowGroup);
            var rows = (int)group.MetaData.NumRows;
            var ids = ReadColumn<byte[]>(group, BlockSchema.TraceId, rows);
            var wanted = traceId.ToBytes();
            var first = -1;
            var last = -1;
            for (var i = 0; i < ids.Length; i++)
            {
                if (ids[i].AsSpan().SequenceEqual(wanted))
                {
                    first = first < 0 ? i : first;
                    last = i;
                }
            }

            if (first < 0)
            {
                return [];
            }

            var columns = RowGroupColumns.Read(group, rows);
            var spans = new List<Span>(last - first + 1);
            var strings = new StringTable();
            for (var i = first; i <= last; i++)
            {
                spans.Add(Materialize(columns, i, strings));
            }

            return spans;
        });
    }

    /// <summary>Adds the traces with a span matching <paramref name="query"/> to <paramref name="results"/>.</summary>
    public void Search(TraceQuery query, long fromNanos, long toNanos, SearchResults results, CancellationToken cancellationToken)
    {
        if (!OverlapsTime(fromNanos, toNanos)
            || (query.ServiceName is { Length: > 0 } service && !Meta.Services.ContainsKey(service))
            || (query.ServiceName is { Length: > 0 } s && query.OperationName is { Length: > 0 } op && !Meta.Services[s].Any(o => o.Name == op)))
        {
            return;
        }

        var minDuration = query.MinDuration is { } min ? min.Ticks * 100 : long.MinValue;
        var maxDuration = query.MaxDuration is { } max ? max.Ticks * 100 : long.MaxValue;
        UseReader(reader =>
        {
            for (var g = 0; g < Meta.RowGroups.Count; g++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var rg = Meta.RowGroups[g];
                if (rg.MaxStartUnixNano < fromNanos || rg.MinStartUnixNano > toNanos || rg.MaxDurationNanos < minDuration)
                {
                    continue;
                }

                using var group = reader.RowGroup(g);
                SearchRowGroup(group, rg.Rows, query, fromNanos, toNanos, minDuration, maxDuration, results);
            }

            return 0;
        });
    }

    /// <summary>Every trace of the block in trace-id order, one row group at a time (for compaction and verify).</summary>
    public IEnumerable<(TraceId TraceId, List<Span> Spans)> ReadTraces()
    {
        for (var g = 0; g < Meta.RowGroups.Count; g++)
        {
            var traces = UseReader(reader =>
            {
                using var group = reader.RowGroup(g);
                var rows = (int)group.MetaData.NumRows;
                var columns = RowGroupColumns.Read(group, rows);
                var strings = new StringTable();
                var result = new List<(TraceId, List<Span>)>();
                for (var i = 0; i < rows; i++)
                {
                    var span = Materialize(columns, i, strings);
                    if (result.Count == 0 || result[^1].Item1 != span.TraceId)
                    {
                        result.Add((span.TraceId, []));
                    }

                    result[^1].Item2.Add(span);
                }

                return result;
            });
            foreach (var trace in traces)
            {
                yield return trace;
            }
        }
    }

    private void SearchRowGroup(RowGroupReader group, int rows, TraceQuery query, long fromNanos, long toNanos, long minDuration,
        long maxDuration, SearchResults results)
    {
        var starts = ReadColumn<long>(group, BlockSchema.StartTime, rows);
        var durations = ReadColumn<long>(group, BlockSchema.Duration, rows);
        var services = query.ServiceName is { Length: > 0 } ? ReadColumn<string>(group, BlockSchema.ServiceName, rows) : null;
        var names = query.OperationName is { Length: > 0 } ? ReadColumn<string>(group, BlockSchema.Name, rows) : null;
        List<int>? candidates = null;
        for (var i = 0; i < rows; i++)
        {
            if (starts[i] < fromNanos || starts[i] > toNanos || durations[i] < minDuration || durations[i] > maxDuration
                || (services is not null && !string.Equals(services[i], query.ServiceName, StringComparison.Ordinal))
                || (names is not null && !string.Equals(names[i], query.OperationName, StringComparison.Ordinal)))
            {
                continue;
            }

            (candidates ??= []).Add(i);
        }

        if (candidates is null)
        {
            return;
        }

        if (query.Tags.Count == 0)
        {
            var ids = ReadColumn<byte[]>(group, BlockSchema.TraceId, rows);
            foreach (var i in candidates)
            {
                results.Add(TraceId.FromBytes(ids[i]), starts[i]);
            }

            return;
        }

        // A tag filter on an attribute needs its key, as UTF-8, somewhere in the row's attribute columns: that byte
        // search drops most rows before anything is decoded; the rest are checked exactly by the shared matcher.
        var keys = query.Tags.Keys.Select(SpanMatcher.RequiredAttributeKey).OfType<string>()
            .Select(k => System.Text.Encoding.UTF8.GetBytes(k)).ToArray();
        byte[][][] attributeColumns = keys.Length == 0 ? [] :
        [
            ReadColumn<byte[]>(group, BlockSchema.Attributes, rows),
            ReadColumn<byte[]>(group, BlockSchema.Resource, rows),
            ReadColumn<byte[]>(group, BlockSchema.Events, rows),
            ReadColumn<byte[]>(group, BlockSchema.Scope, rows),
            ReadColumn<byte[]>(group, BlockSchema.Links, rows),
        ];
        RowGroupColumns? columns = null;
        var strings = new StringTable();
        foreach (var i in candidates)
        {
            if (!keys.All(key => attributeColumns.Any(column => column[i].AsSpan().IndexOf(key) >= 0)))
            {
                continue;
            }

            columns ??= RowGroupColumns.Read(group, rows);
            var span = Materialize(columns, i, strings);
            if (SpanMatcher.Matches(span, query))
            {
                results.Add(span.TraceId, span.StartTimeUnixNano);
            }
        }
    }

    private Span Materialize(RowGroupColumns c, int i, StringTable strings)
    {
        var dropped = c.DroppedCounts[i];
        return new Span
        {
            TraceId = TraceId.FromBytes(c.TraceIds[i]),
            SpanId = SpanId.FromBytes(c.SpanIds[i]),
            ParentSpanId = c.ParentSpanIds[i].Length == 0 ? default : SpanId.FromBytes(c.ParentSpanIds[i]),
            Name = c.Names[i] ?? string.Empty,
            Kind = (SpanKind)c.Kinds[i],
            StartTimeUnixNano = c.Starts[i],
            EndTimeUnixNano = c.Starts[i] + c.Durations[i],
            StatusCode = (StatusCode)c.StatusCodes[i],
            StatusMessage = c.StatusMessages[i] ?? string.Empty,
            TraceState = c.TraceStates[i] ?? string.Empty,
            Flags = (uint)c.Flags[i],
            Resource = _resources.GetOrAdd(c.Resources[i], static bytes => new SpanCodecReader(bytes).ReadResource()),
            Scope = _scopes.GetOrAdd(c.Scopes[i], static bytes => new SpanCodecReader(bytes).ReadScope()),
            Attributes = new SpanCodecReader(c.Attributes[i], strings).ReadAttributes(),
            Events = new SpanCodecReader(c.Events[i], strings).ReadEvents(),
            Links = new SpanCodecReader(c.Links[i], strings).ReadLinks(),
            DroppedAttributesCount = (uint)(dropped & 0x1FFFFF),
            DroppedEventsCount = (uint)((dropped >> 21) & 0x1FFFFF),
            DroppedLinksCount = (uint)((dropped >> 42) & 0x1FFFFF),
        };
    }

    private int FindRowGroup(TraceId traceId)
    {
        int lo = 0, hi = _rowGroupMin.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (traceId.CompareTo(_rowGroupMin[mid]) < 0)
            {
                hi = mid - 1;
            }
            else if (traceId.CompareTo(_rowGroupMax[mid]) > 0)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return -1;
    }

    private T UseReader<T>(Func<ParquetFileReader, T> read)
    {
        if (!_readers.TryTake(out var reader))
        {
            reader = new ParquetFileReader(Path.Combine(Directory, BlockMeta.DataFileName));
        }

        var healthy = false;
        try
        {
            var result = read(reader);
            healthy = true;
            return result;
        }
        catch (ParquetException e)
        {
            throw new BlockCorruptedException(this, e);
        }
        catch (InvalidDataException e)
        {
            throw new BlockCorruptedException(this, e);
        }
        finally
        {
            if (healthy)
            {
                _readers.Add(reader);
            }
            else
            {
                reader.Dispose();
            }
        }
    }

    internal static T[] ReadColumn<T>(RowGroupReader group, int column, int rows)
    {
        using var reader = group.Column(column).LogicalReader<T>();
        return reader.ReadAll(rows);
    }

    private static TraceId Parse(string hex) =>
        TraceId.TryParseHex(hex, out var id) ? id : throw new InvalidDataException($"'{hex}' in {BlockMeta.FileName} is not a trace id");

    private sealed class RowGroupColumns
    {
        public required byte[][] TraceIds { get; init; }
        public required byte[][] SpanIds { get; init; }
        public required byte[][] ParentSpanIds { get; init; }
        public required string[] Names { get; init; }
        public required int[] Kinds { get; init; }
        public required long[] Starts { get; init; }
        public required long[] Durations { get; init; }
        public required int[] StatusCodes { get; init; }
        public required string[] StatusMessages { get; init; }
        public required string[] TraceStates { get; init; }
        public required int[] Flags { get; init; }
        public required byte[][] Resources { get; init; }
        public required byte[][] Scopes { get; init; }
        public required byte[][] Attributes { get; init; }
        public required byte[][] Events { get; init; }
        public required byte[][] Links { get; init; }
        public required long[] DroppedCounts { get; init; }

        public static RowGroupColumns Read(RowGroupReader g, int rows) => new()
        {
            TraceIds = ReadColumn<byte[]>(g, BlockSchema.TraceId, rows),
            SpanIds = ReadColumn<byte[]>(g, BlockSchema.SpanId, rows),
            ParentSpanIds = ReadColumn<byte[]>(g, BlockSchema.ParentSpanId, rows),
            Names = ReadColumn<string>(g, BlockSchema.Name, rows),
            Kinds = ReadColumn<int>(g, BlockSchema.Kind, rows),
            Starts = ReadColumn<long>(g, BlockSchema.StartTime, rows),
            Durations = ReadColumn<long>(g, BlockSchema.Duration, rows),
            StatusCodes = ReadColumn<int>(g, BlockSchema.StatusCode, rows),
            StatusMessages = ReadColumn<string>(g, BlockSchema.StatusMessage, rows),
            TraceStates = ReadColumn<string>(g, BlockSchema.TraceState, rows),
            Flags = ReadColumn<int>(g, BlockSchema.Flags, rows),
            Resources = ReadColumn<byte[]>(g, BlockSchema.Resource, rows),
            Scopes = ReadColumn<byte[]>(g, BlockSchema.Scope, rows),
            Attributes = ReadColumn<byte[]>(g, BlockSchema.Attributes, rows),
            Events = ReadColumn<byte[]>(g, BlockSchema.Events, rows),
            Links = ReadColumn<byte[]>(g, BlockSchema.Links, rows),
            DroppedCounts = ReadColumn<long>(g, BlockSchema.DroppedCounts, rows),
        };
    }
}

/// <summary>A block's file could not be read as written; the engine quarantines the block and serves the rest.</summary>
public sealed class BlockCorruptedException(Block block, Exception inner)
    : Exception($"Block {block.Id} ({block.Directory}) is damaged: {inner.Message}", inner)
{
    public Block Block { get; } = block;
}

/// <summary>Trace ids found by a search with the start of their latest matching span, so the newest come first.</summary>
public sealed class SearchResults
{
    private readonly Lock _lock = new();

    public Dictionary<TraceId, long> Found { get; } = [];

    public void Add(TraceId traceId, long startUnixNano)
    {
        lock (_lock)
        {
            if (!Found.TryGetValue(traceId, out var existing) || existing < startUnixNano)
            {
                Found[traceId] = startUnixNano;
            }
        }
    }

    /// <summary>The start of the <paramref name="limit"/>-th newest result, or null while there are fewer.</summary>
    public long? Threshold(int limit)
    {
        lock (_lock)
        {
            if (Found.Count < limit)
            {
                return null;
            }

            var starts = Found.Values.ToArray();
            Array.Sort(starts);
            return starts[^limit];
        }
    }
}

internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>
{
    public static readonly ByteArrayComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => (int)XxHash32.HashToUInt32(obj);
}
