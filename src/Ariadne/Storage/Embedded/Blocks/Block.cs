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
public sealed class Block
{
    private readonly ConcurrentBag<ParquetFileReader> _readers = [];
    private readonly ConcurrentDictionary<byte[], Resource> _resources = new(ByteArrayComparer.Instance);
    private readonly ConcurrentDictionary<byte[], InstrumentationScope> _scopes = new(ByteArrayComparer.Instance);
    private readonly TraceId[] _rowGroupMin;
    private readonly TraceId[] _rowGroupMax;
    private readonly BloomFilter _bloom;
    private readonly TagFilters? _tags;
    private int _references = 1;
    private bool _deleteWhenReleased;

    private Block(string directory, BlockMeta meta, BloomFilter bloom, TagFilters? tags)
    {
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

    public long DiskBytes => Meta.DataBytes + Meta.BloomBytes + Meta.TagsBytes;

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

        TagFilters? tags = null;
        if (meta.TagsBytes > 0)
        {
            var tagBytes = File.ReadAllBytes(Path.Combine(directory, TagFilters.FileName));
            if (tagBytes.Length != meta.TagsBytes || Crc32.HashToUInt32(tagBytes) != meta.TagsCrc32)
            {
                throw new InvalidDataException($"{TagFilters.FileName} does not match its checksum");
            }

            tags = TagFilters.FromBytes(tagBytes, meta.RowGroups.Count);
        }

        return new Block(directory, meta, BloomFilter.FromBytes(bloomBytes), tags);
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
            var (first, count) = ColumnRows.FindRun(group, BlockSchema.TraceId, (int)group.MetaData.NumRows, traceId);
            if (count == 0)
            {
                return [];
            }

            // Only the trace's own rows are decoded into objects; the rest of the row group is skipped.
            var columns = RowGroupColumns.Read(group, first, count);
            var spans = new List<Span>(count);
            var strings = new StringTable();
            for (var i = 0; i < count; i++)
            {
                spans.Add(Materialize(columns, i, strings));
            }

            return spans;
        });
    }

    /// <summary>
    /// Adds the traces with a span matching <paramref name="query"/> to <paramref name="results"/>. Row groups are
    /// skipped by time range, duration and tag filters, then searched in parallel, each reading only the columns
    /// that decide a match for the rows still in question.
    /// </summary>
    public void Search(SearchPlan plan, SearchResults results, CancellationToken cancellationToken)
    {
        var query = plan.Query;
        if (!OverlapsTime(plan.FromNanos, plan.ToNanos)
            || (query.ServiceName is { Length: > 0 } service && !Meta.Services.ContainsKey(service))
            || (query.ServiceName is { Length: > 0 } s && query.OperationName is { Length: > 0 } op && !Meta.Services[s].Any(o => o.Name == op)))
        {
            return;
        }

        var groups = new List<int>();
        for (var g = 0; g < Meta.RowGroups.Count; g++)
        {
            var rg = Meta.RowGroups[g];
            if (rg.MaxStartUnixNano < plan.FromNanos || rg.MinStartUnixNano > plan.ToNanos || rg.MaxDurationNanos < plan.MinDuration
                || (_tags is not null && plan.TagHashes.Any(h => !_tags.MayContain(g, h))))
            {
                continue;
            }

            groups.Add(g);
        }

        // Newest row groups first, so the limit's threshold rises early and older row groups are dropped unread.
        groups.Sort((a, b) => Meta.RowGroups[b].MaxStartUnixNano.CompareTo(Meta.RowGroups[a].MaxStartUnixNano));
        try
        {
            Parallel.ForEach(groups, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, g =>
            {
                if (results.Threshold is { } threshold && Meta.RowGroups[g].MaxStartUnixNano < threshold)
                {
                    return;
                }

                UseReader(reader =>
                {
                    using var group = reader.RowGroup(g);
                    SearchRowGroup(group, Meta.RowGroups[g].Rows, plan, results);
                    return 0;
                });
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.OfType<BlockCorruptedException>().FirstOrDefault() is { } corrupted)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(corrupted);
        }
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
            foreach (var trace in traces)
            {
                yield return trace;
            }
        }
    }

    private void SearchRowGroup(RowGroupReader group, int rows, SearchPlan plan, SearchResults results)
    {
        var starts = ReadColumn<long>(group, BlockSchema.StartTime, rows);
        var durations = ReadColumn<long>(group, BlockSchema.Duration, rows);
        var floor = Math.Max(plan.FromNanos, results.Threshold ?? long.MinValue);
        var candidates = new List<int>();
        for (var i = 0; i < rows; i++)
        {
            if (starts[i] >= floor && starts[i] <= plan.ToNanos && durations[i] >= plan.MinDuration && durations[i] <= plan.MaxDuration)
            {
                candidates.Add(i);
            }
        }

        if (candidates.Count > 0 && plan.Service is { } service)
        {
            candidates = ColumnRows.KeepEqual(group, BlockSchema.ServiceName, rows, candidates, service);
        }

        if (candidates.Count > 0 && plan.Operation is { } operation)
        {
            candidates = ColumnRows.KeepEqual(group, BlockSchema.Name, rows, candidates, operation);
        }

        if (candidates.Count > 0 && plan.Query.Tags.Count > 0)
        {
            // Other row groups searched meanwhile may have raised the threshold: drop what can no longer make the answer.
            if (results.Threshold is { } threshold)
            {
                candidates.RemoveAll(row => starts[row] < threshold);
            }

            candidates = MatchTags(group, rows, candidates, plan, starts, durations);
        }

        if (candidates.Count == 0)
        {
            return;
        }

        var found = new (TraceId, long)[candidates.Count];
        ColumnRows.Visit(group, BlockSchema.TraceId, rows, candidates, (k, bytes) => found[k] = (TraceId.FromBytes(bytes), starts[candidates[k]]));
        results.AddRange(found);
    }

    /// <summary>
    /// Candidates whose span satisfies the tag filters. A tag filter on an attribute needs its key, as UTF-8, somewhere
    /// in the row's attribute columns: that byte search drops most rows before anything is decoded; the rest are
    /// decoded into a span holding what the shared matcher looks at, and checked exactly by it.
    /// </summary>
    private List<int> MatchTags(RowGroupReader group, int rows, List<int> candidates, SearchPlan plan, long[] starts, long[] durations)
    {
        var attributes = ColumnRows.Read(group, BlockSchema.Attributes, rows, candidates);
        var resources = ColumnRows.Read(group, BlockSchema.Resource, rows, candidates);
        var scopes = ColumnRows.Read(group, BlockSchema.Scope, rows, candidates);
        var events = ColumnRows.Read(group, BlockSchema.Events, rows, candidates);
        var links = ColumnRows.Read(group, BlockSchema.Links, rows, candidates);
        var survivors = new List<int>();
        for (var k = 0; k < candidates.Count; k++)
        {
            var keep = true;
            foreach (var key in plan.TagKeys)
            {
                if (attributes[k].AsSpan().IndexOf(key) < 0 && resources[k].AsSpan().IndexOf(key) < 0 && scopes[k].AsSpan().IndexOf(key) < 0
                    && events[k].AsSpan().IndexOf(key) < 0 && links[k].AsSpan().IndexOf(key) < 0)
                {
                    keep = false;
                    break;
                }
            }

            if (keep)
            {
                survivors.Add(k);
            }
        }

        if (survivors.Count == 0)
        {
            return [];
        }

        var rowsLeft = survivors.Select(k => candidates[k]).ToList();
        var kinds = ReadColumn<int>(group, BlockSchema.Kind, rows);
        var statusCodes = ReadColumn<int>(group, BlockSchema.StatusCode, rows);
        var statusMessages = ColumnRows.Read(group, BlockSchema.StatusMessage, rows, rowsLeft);
        var strings = new StringTable();
        var matched = new List<int>();
        for (var j = 0; j < survivors.Count; j++)
        {
            var k = survivors[j];
            var row = candidates[k];
            var span = new Span
            {
                Name = plan.Operation is null ? string.Empty : plan.Query.OperationName!,
                Kind = (SpanKind)kinds[row],
                StartTimeUnixNano = starts[row],
                EndTimeUnixNano = starts[row] + durations[row],
                StatusCode = (StatusCode)statusCodes[row],
                StatusMessage = statusMessages[j].Length == 0 ? string.Empty : System.Text.Encoding.UTF8.GetString(statusMessages[j]),
                Resource = _resources.GetOrAdd(resources[k], static bytes => new SpanCodecReader(bytes).ReadResource()),
                Scope = _scopes.GetOrAdd(scopes[k], static bytes => new SpanCodecReader(bytes).ReadScope()),
                Attributes = new SpanCodecReader(attributes[k], strings).ReadAttributes(),
                Events = new SpanCodecReader(events[k], strings).ReadEvents(),
                Links = new SpanCodecReader(links[k], strings).ReadLinks(),
            };
            if (SpanMatcher.Matches(span, plan.Query))
            {
                matched.Add(row);
            }
        }

        return matched;
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
    /// id in every row, empty for a root).
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

/// <summary>
/// Trace ids found by a search with the start of their latest matching span, so the newest come first. Only the
/// newest <c>limit</c> traces can be in the answer: once more are found, older entries are dropped and the start of
/// the limit-th newest becomes a threshold that lets blocks and row groups end their search early.
/// </summary>
public sealed class SearchResults(int limit)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TraceId, long> _found = [];
    private long? _threshold;

    /// <summary>A span must start at or after this to change the answer; null while fewer than the limit were found.</summary>
    public long? Threshold
    {
        get
        {
            lock (_lock)
            {
                return _threshold;
            }
        }
    }

    public void Add(TraceId traceId, long startUnixNano) => AddRange([(traceId, startUnixNano)]);

    public void AddRange(ReadOnlySpan<(TraceId TraceId, long StartUnixNano)> found)
    {
        lock (_lock)
        {
            foreach (var (traceId, start) in found)
            {
                if (start < _threshold)
                {
                    continue;
                }

                if (!_found.TryGetValue(traceId, out var existing) || existing < start)
                {
                    _found[traceId] = start;
                }
            }

            // Pruning early gives the threshold early; each prune sorts only a few entries.
            if (_found.Count >= 2 * limit)
            {
                Prune();
            }
        }
    }

    /// <summary>The newest <c>limit</c> traces, newest first.</summary>
    public List<TraceId> Newest()
    {
        lock (_lock)
        {
            return _found.OrderByDescending(f => f.Value).Take(limit).Select(f => f.Key).ToList();
        }
    }

    private void Prune()
    {
        var kept = _found.OrderByDescending(f => f.Value).Take(limit).ToList();
        _found.Clear();
        foreach (var (id, start) in kept)
        {
            _found[id] = start;
        }

        // A dropped trace had no matching span at or after the threshold, so it can only re-enter with a newer one.
        _threshold = kept.Count == limit ? kept[^1].Value : null;
    }

    /// <summary>Sets the threshold once the limit is reached, so callers can stop before the next prune.</summary>
    public void Settle()
    {
        lock (_lock)
        {
            if (_found.Count >= limit)
            {
                Prune();
            }
        }
    }
}

internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>
{
    public static readonly ByteArrayComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => (int)XxHash32.HashToUInt32(obj);
}
