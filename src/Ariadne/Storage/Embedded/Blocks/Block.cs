using System.Collections.Concurrent;
using System.IO.Hashing;
using Ariadne.Model;
using Ariadne.Pipeline.Log;
using Ariadne.Storage.Embedded.Aggregation;
using ParquetSharp;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// An immutable block on disk. Queries use its metadata to skip it, the bloom filter and the row-group trace-id
/// ranges to find a trace in one row group, and read only the columns a search needs until a row is a candidate.
/// Reference-counted: the block list holds one reference and each query another, so compaction and retention
/// delete files only when no query still reads them.
/// </summary>
public sealed partial class Block
{
    private readonly ConcurrentBag<ParquetFileReader> _readers = [];
    private readonly ConcurrentDictionary<byte[], Resource> _resources = new(ByteArrayComparer.Instance);
    private readonly ConcurrentDictionary<byte[], InstrumentationScope> _scopes = new(ByteArrayComparer.Instance);
    private readonly TraceId[] _rowGroupMin;
    private readonly TraceId[] _rowGroupMax;
    private readonly BloomFilter _bloom;
    private readonly RowGroupFilters? _tags;
    private readonly RowGroupFilters? _traces;
    private readonly SearchIndex? _index;
    private long _rowGroupsSearched;
    private int _references = 1;
    private IDurableFiles? _deleteWith;

    private Block(string directory, BlockMeta meta, BloomFilter bloom, RowGroupFilters? tags, RowGroupFilters? traces, SearchIndex? index)
    {
        _traces = traces;
        _index = index;
        Directory = directory;
        Meta = meta;
        _bloom = bloom;
        _tags = tags;
        _rowGroupMin = meta.RowGroups.Select(r => Parse(r.MinTraceId)).ToArray();
        _rowGroupMax = meta.RowGroups.Select(r => Parse(r.MaxTraceId)).ToArray();
        Aggregates = Aggregation.Aggregates.FromDocument(meta.Aggregates);
        meta.Aggregates = null;
    }

    public string Directory { get; }

    public BlockMeta Meta { get; }

    public Aggregates Aggregates { get; }

    public string Id => Meta.Id;

    public long DiskBytes => Meta.FileBytes;

    /// <summary>
    /// Row groups whose Parquet columns searches have decoded (not those skipped by statistics, filters or the search
    /// index): how much a search read.
    /// </summary>
    public long RowGroupsSearched => Interlocked.Read(ref _rowGroupsSearched);

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

        if (meta.FormatVersion is < BlockMeta.TraceOrderedFormatVersion or > BlockMeta.CurrentFormatVersion)
        {
            throw new InvalidDataException(
                $"block format version {meta.FormatVersion}, this build reads versions {BlockMeta.TraceOrderedFormatVersion} to {BlockMeta.CurrentFormatVersion}");
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

        RowGroupFilters? tags = null;
        if (meta.TagsBytes > 0)
        {
            var tagBytes = File.ReadAllBytes(Path.Combine(directory, TagFilters.FileName));
            if (tagBytes.Length != meta.TagsBytes || Crc32.HashToUInt32(tagBytes) != meta.TagsCrc32)
            {
                throw new InvalidDataException($"{TagFilters.FileName} does not match its checksum");
            }

            tags = RowGroupFilters.FromBytes(tagBytes, meta.RowGroups.Count, TagFilters.FileName);
        }

        RowGroupFilters? traces = null;
        if (meta.FormatVersion >= BlockMeta.TimeOrderedFormatVersion)
        {
            var traceBytes = File.ReadAllBytes(Path.Combine(directory, BlockMeta.TracesFileName));
            if (traceBytes.Length != meta.TracesBytes || Crc32.HashToUInt32(traceBytes) != meta.TracesCrc32)
            {
                throw new InvalidDataException($"{BlockMeta.TracesFileName} does not match its checksum");
            }

            traces = RowGroupFilters.FromBytes(traceBytes, meta.RowGroups.Count, BlockMeta.TracesFileName);
        }

        SearchIndex? index = null;
        if (meta.FormatVersion >= BlockMeta.CurrentFormatVersion)
        {
            // Read a row group at a time by searches; whole only when verifying, for its checksum.
            var indexPath = Path.Combine(directory, SearchIndex.FileName);
            if (verifyData && Crc32.HashToUInt32(File.ReadAllBytes(indexPath)) != meta.IndexCrc32)
            {
                throw new InvalidDataException($"{SearchIndex.FileName} does not match its CRC-32 (bytes changed on disk)");
            }

            index = SearchIndex.Open(indexPath, meta.RowGroups.Count, meta.IndexBytes);
        }

        return new Block(directory, meta, BloomFilter.FromBytes(bloomBytes), tags, traces, index);
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

            _index?.Dispose();

            if (_deleteWith is { } files)
            {
                try
                {
                    files.DeleteDirectory(Directory);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The block is out of the list, so nothing serves it; the next start deletes what is left: a
                    // compaction's sources are listed in its output, and retention's blocks in the aggregate day files.
                }
            }
        }
    }

    /// <summary>
    /// Drops the block list's reference; the files go once the last query using them is done. Only for a block the
    /// next start would delete too if this delete fails (<see cref="Release"/>).
    /// </summary>
    public void RetireAndDelete(IDurableFiles files)
    {
        _deleteWith = files;
        Release();
    }

    public bool OverlapsTime(long fromNanos, long toNanos) =>
        Meta.SpanCount > 0 && Meta.MaxStartUnixNano >= fromNanos && Meta.MinStartUnixNano <= toNanos;

    /// <summary>The spans of a trace in this block; empty when absent.</summary>
    public List<Span> GetTrace(TraceId traceId) => GetTraces([traceId]);

    /// <summary>
    /// The spans of every trace of <paramref name="traceIds"/> in this block, each row group read once for all the
    /// traces it holds (a search's answer usually sits in a few row groups of the newest block).
    /// </summary>
    public List<Span> GetTraces(IReadOnlyCollection<TraceId> traceIds)
    {
        var byRowGroup = new SortedDictionary<int, HashSet<TraceId>>();
        foreach (var traceId in traceIds)
        {
            if (!_bloom.MayContain(traceId))
            {
                continue;
            }

            foreach (var g in RowGroupsOf(traceId))
            {
                if (!byRowGroup.TryGetValue(g, out var ids))
                {
                    ids = [];
                    byRowGroup.Add(g, ids);
                }

                ids.Add(traceId);
            }
        }

        var spans = new List<Span>();
        foreach (var (rowGroup, ids) in byRowGroup)
        {
            UseReader(reader =>
            {
                using var group = reader.RowGroup(rowGroup);
                var rows = (int)group.MetaData.NumRows;
                var selected = ColumnRows.FindRows(group, BlockSchema.TraceId, rows, ids);
                if (selected.Count == 0)
                {
                    return 0;
                }

                // Only the traces' own rows are decoded into objects; the rest of the row group is skipped.
                var strings = new StringTable();
                var columns = RowGroupColumns.ReadSelected(group, rows, selected, strings);
                for (var i = 0; i < selected.Count; i++)
                {
                    spans.Add(Materialize(columns, i, strings));
                }

                return 0;
            });
        }

        return spans;
    }

    /// <summary>
    /// Row groups that may hold the trace: by the trace-id filter of each row group (version 2), or the one row group
    /// whose trace-id range holds it (version 1: rows sorted by trace id).
    /// </summary>
    private IEnumerable<int> RowGroupsOf(TraceId traceId)
    {
        if (_traces is null)
        {
            var g = FindRowGroup(traceId);
            if (g >= 0)
            {
                yield return g;
            }

            yield break;
        }

        for (var g = 0; g < _rowGroupMin.Length; g++)
        {
            if (traceId.CompareTo(_rowGroupMin[g]) >= 0 && traceId.CompareTo(_rowGroupMax[g]) <= 0 && _traces.MayContain(g, traceId.Low, traceId.High))
            {
                yield return g;
            }
        }
    }

    /// <summary>
    /// Every trace of the block in the block's order (version 2: by first span; version 1: by trace id), one row group
    /// at a time (for compaction and verify). A trace stored as two runs of rows comes as two entries.
    /// </summary>
    public IEnumerable<(TraceId TraceId, List<Span> Spans)> ReadTraces() => ReadRowGroups().SelectMany(traces => traces);

    /// <summary>The traces of each row group in turn, in the order of their rows (for compaction).</summary>
    public IEnumerable<List<(TraceId TraceId, List<Span> Spans)>> ReadRowGroups()
    {
        for (var g = 0; g < Meta.RowGroups.Count; g++)
        {
            yield return UseReader(reader =>
            {
                using var group = reader.RowGroup(g);
                var rows = (int)group.MetaData.NumRows;
                var columns = RowGroupColumns.Read(group, 0, rows);
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
        }
    }

    private Span Materialize(RowGroupColumns c, int i, StringTable strings)
    {
        var dropped = c.DroppedCounts[i];
        return new Span
        {
            TraceId = TraceId.FromBytes(c.TraceIds[i]),
            SpanId = SpanId.FromBytes(c.SpanIds[i]),
            ParentSpanId = ParentOf(c, i),
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

    /// <summary>
    /// A parent among the trace's rows is stored as the row offset to it (blocks written before that column hold the
    /// id in every row, empty for a root). A trace's run of rows is always read whole, so the offset also holds
    /// between the rows of a selection.
    /// </summary>
    private static SpanId ParentOf(RowGroupColumns c, int i)
    {
        if (c.ParentRowOffsets?[i] is { } offset)
        {
            var row = i - offset;
            return (uint)row < (uint)c.SpanIds.Length && row != i
                ? SpanId.FromBytes(c.SpanIds[row])
                : throw new InvalidDataException($"parent_row_offset {offset} of row {i} points outside its trace");
        }

        return c.ParentSpanIds[i] is { Length: > 0 } parent ? SpanId.FromBytes(parent) : default;
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
        public required int?[]? ParentRowOffsets { get; init; }

        /// <summary>The <paramref name="selected"/> rows (ascending): byte columns visited row by row, number columns read over their range.</summary>
        public static RowGroupColumns ReadSelected(RowGroupReader g, int rows, List<int> selected, StringTable strings)
        {
            var first = selected[0];
            var count = selected[^1] - first + 1;
            T[] Numbers<T>(int column)
            {
                var range = ColumnRows.ReadRange<T>(g, column, first, count);
                var result = new T[selected.Count];
                for (var k = 0; k < result.Length; k++)
                {
                    result[k] = range[selected[k] - first];
                }

                return result;
            }

            string[] Strings(int column)
            {
                var result = new string[selected.Count];
                ColumnRows.Visit(g, column, rows, selected, (k, value) => result[k] = value.IsEmpty ? string.Empty : strings.Get(value));
                return result;
            }

            return new RowGroupColumns
            {
                TraceIds = ColumnRows.Read(g, BlockSchema.TraceId, rows, selected),
                SpanIds = ColumnRows.Read(g, BlockSchema.SpanId, rows, selected),
                ParentSpanIds = ColumnRows.Read(g, BlockSchema.ParentSpanId, rows, selected),
                Names = Strings(BlockSchema.Name),
                Kinds = Numbers<int>(BlockSchema.Kind),
                Starts = Numbers<long>(BlockSchema.StartTime),
                Durations = Numbers<long>(BlockSchema.Duration),
                StatusCodes = Numbers<int>(BlockSchema.StatusCode),
                StatusMessages = Strings(BlockSchema.StatusMessage),
                TraceStates = Strings(BlockSchema.TraceState),
                Flags = Numbers<int>(BlockSchema.Flags),
                Resources = ColumnRows.Read(g, BlockSchema.Resource, rows, selected),
                Scopes = ColumnRows.Read(g, BlockSchema.Scope, rows, selected),
                Attributes = ColumnRows.Read(g, BlockSchema.Attributes, rows, selected),
                Events = ColumnRows.Read(g, BlockSchema.Events, rows, selected),
                Links = ColumnRows.Read(g, BlockSchema.Links, rows, selected),
                DroppedCounts = Numbers<long>(BlockSchema.DroppedCounts),
                ParentRowOffsets = g.MetaData.NumColumns > BlockSchema.ParentRowOffset ? Numbers<int?>(BlockSchema.ParentRowOffset) : null,
            };
        }

        public static RowGroupColumns Read(RowGroupReader g, int first, int count) => new()
        {
            TraceIds = ColumnRows.ReadRange<byte[]>(g, BlockSchema.TraceId, first, count),
            SpanIds = ColumnRows.ReadRange<byte[]>(g, BlockSchema.SpanId, first, count),
            ParentSpanIds = ColumnRows.ReadRange<byte[]>(g, BlockSchema.ParentSpanId, first, count),
            Names = ColumnRows.ReadRange<string>(g, BlockSchema.Name, first, count),
            Kinds = ColumnRows.ReadRange<int>(g, BlockSchema.Kind, first, count),
            Starts = ColumnRows.ReadRange<long>(g, BlockSchema.StartTime, first, count),
            Durations = ColumnRows.ReadRange<long>(g, BlockSchema.Duration, first, count),
            StatusCodes = ColumnRows.ReadRange<int>(g, BlockSchema.StatusCode, first, count),
            StatusMessages = ColumnRows.ReadRange<string>(g, BlockSchema.StatusMessage, first, count),
            TraceStates = ColumnRows.ReadRange<string>(g, BlockSchema.TraceState, first, count),
            Flags = ColumnRows.ReadRange<int>(g, BlockSchema.Flags, first, count),
            Resources = ColumnRows.ReadRange<byte[]>(g, BlockSchema.Resource, first, count),
            Scopes = ColumnRows.ReadRange<byte[]>(g, BlockSchema.Scope, first, count),
            Attributes = ColumnRows.ReadRange<byte[]>(g, BlockSchema.Attributes, first, count),
            Events = ColumnRows.ReadRange<byte[]>(g, BlockSchema.Events, first, count),
            Links = ColumnRows.ReadRange<byte[]>(g, BlockSchema.Links, first, count),
            DroppedCounts = ColumnRows.ReadRange<long>(g, BlockSchema.DroppedCounts, first, count),
            ParentRowOffsets = g.MetaData.NumColumns > BlockSchema.ParentRowOffset
                ? ColumnRows.ReadRange<int?>(g, BlockSchema.ParentRowOffset, first, count)
                : null,
        };
    }
}

/// <summary>A block's file could not be read as written; the engine quarantines the block and serves the rest.</summary>
public sealed class BlockCorruptedException(Block block, Exception inner)
    : Exception($"Block {block.Id} ({block.Directory}) is damaged: {inner.Message}", inner)
{
    public Block Block { get; } = block;
}

internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>
{
    public static readonly ByteArrayComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => (int)XxHash32.HashToUInt32(obj);
}
