using System.Buffers;
using System.IO.Hashing;
using Ariadne.Model;
using Ariadne.Pipeline.Log;
using Ariadne.Storage.Embedded.Aggregation;
using ParquetSharp;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// Writes one block. Traces come in the order of their first span's start (ties by trace id), so each row group holds
/// a slice of time and a search stops at the newest ones; the order is the caller's, and any order still reads back
/// right (the row groups' statistics, trace-id filters and search index are exact). Rows are buffered per row group and written
/// column by column through ParquetSharp's column writers (no per-row objects). The block appears under its
/// final name only once data, filters and meta.json are on disk.
/// </summary>
public sealed class BlockWriter : IDisposable
{
    private readonly string _finalDirectory;
    private readonly string _tenantDirectory;
    private readonly IDurableFiles _files;
    private readonly string _tempDirectory;
    private readonly EmbeddedStorageOptions _options;
    private readonly BlockMeta _meta;
    private readonly HashSet<TraceId> _traceIds = [];
    private readonly TagFilters.Builder _tags;
    private readonly SearchIndex.Builder _index = new();
    private readonly RowGroupFilters.Builder _traces;
    private readonly Aggregates _aggregates = new();
    private readonly ParquetFileWriter _writer;
    private readonly RowGroupBuffer _buffer;
    private readonly Dictionary<Resource, byte[]> _resourceBytes = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<InstrumentationScope, byte[]> _scopeBytes = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, HashSet<OperationInfo>> _operations = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _scratch = new(256);
    private readonly Dictionary<SpanId, int> _rowOfSpan = [];

    // The spans of a batch share a resource and a scope, and a trace repeats operations: the last ones skip the lookups.
    private (Resource? Resource, byte[] Bytes) _lastResource = (null, []);
    private (InstrumentationScope? Scope, byte[] Bytes) _lastScope = (null, []);
    private (string? Service, string? Name, SpanKind Kind) _lastOperation;
    private TraceId _groupMinTrace = new(ulong.MaxValue, ulong.MaxValue);
    private TraceId _groupMaxTrace;
    private bool _completed;
    private bool _disposed;

    public BlockWriter(string tenantDirectory, string tenant, EmbeddedStorageOptions options, TimeProvider time,
        IDurableFiles files, int compactionLevel = 0, List<string>? sources = null)
    {
        var id = Guid.CreateVersion7(time.GetUtcNow()).ToString("N");
        _tenantDirectory = tenantDirectory;
        _files = files;
        _finalDirectory = Path.Combine(tenantDirectory, id);
        _tempDirectory = _finalDirectory + ".tmp";
        System.IO.Directory.CreateDirectory(_tempDirectory);
        _options = options;
        _tags = new TagFilters.Builder(options.BloomFalsePositiveRate);
        _traces = new RowGroupFilters.Builder(options.BloomFalsePositiveRate);
        _buffer = RowGroupBuffer.Rent(options.RowGroupSpans);
        _meta = new BlockMeta
        {
            Id = id,
            Tenant = tenant,
            CreatedAt = time.GetUtcNow(),
            CompactionLevel = compactionLevel,
            Sources = sources ?? [],
            MinStartUnixNano = long.MaxValue,
            MaxStartUnixNano = long.MinValue,
        };
        using var properties = BlockSchema.WriterProperties(compactionLevel == 0 ? options.CompressionLevel : options.CompactionCompressionLevel);
        _writer = new ParquetFileWriter(Path.Combine(_tempDirectory, BlockMeta.DataFileName), BlockSchema.Columns(), properties,
            new Dictionary<string, string> { ["ariadne.format_version"] = BlockMeta.CurrentFormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), ["ariadne.tenant"] = tenant });
    }

    public string Directory => _finalDirectory;

    /// <summary>For a block cut from the head: the ingest-log position the cut covers (<see cref="BlockMeta.LogThrough"/>).</summary>
    public string? LogThrough
    {
        get => _meta.LogThrough;
        set => _meta.LogThrough = value;
    }

    public long SpanCount => _meta.SpanCount;

    /// <summary>
    /// Adds the spans of one trace (sorted by start time, no duplicate span ids). A trace added twice (its spans
    /// split between two sources of a compaction) is stored as two runs of rows and read back as one trace.
    /// </summary>
    public void AddTrace(TraceId traceId, IReadOnlyList<Span> spans)
    {
        if (spans.Count == 0)
        {
            return;
        }

        _meta.TraceCount++;
        _traceIds.Add(traceId);
        _traces.Add(traceId.Low, traceId.High);
        _groupMinTrace = traceId.CompareTo(_groupMinTrace) < 0 ? traceId : _groupMinTrace;
        _groupMaxTrace = traceId.CompareTo(_groupMaxTrace) > 0 ? traceId : _groupMaxTrace;
        _aggregates.AddTrace(spans);
        Span<byte> traceBytes = stackalloc byte[TraceId.ByteLength];
        traceId.WriteBytes(traceBytes);
        _rowOfSpan.Clear();
        for (var i = 0; i < spans.Count; i++)
        {
            _rowOfSpan.TryAdd(spans[i].SpanId, i);
        }

        for (var i = 0; i < spans.Count; i++)
        {
            var span = spans[i];
            int? parentRowOffset = !span.ParentSpanId.IsEmpty && _rowOfSpan.TryGetValue(span.ParentSpanId, out var parentRow) && parentRow != i
                ? i - parentRow
                : null;
            AddRow(traceBytes, span, parentRowOffset);
        }

        if (_buffer.Count >= _options.RowGroupSpans)
        {
            FlushRowGroup();
        }
    }

    /// <summary>Finishes the block and moves it to its final directory; returns its metadata.</summary>
    public BlockMeta Complete()
    {
        Seal();
        return Publish();
    }

    /// <summary>
    /// Writes everything but meta.json, durably, in the temp directory: the block is not yet one (a crash now leaves a
    /// temp directory that the next start removes). Compaction seals all its outputs before it publishes any.
    /// </summary>
    public void Seal()
    {
        FlushRowGroup();
        _writer.Close();
        var dataPath = Path.Combine(_tempDirectory, BlockMeta.DataFileName);
        // ParquetSharp closed the file without fsync: without this a power loss could leave meta.json naming a
        // data.parquet whose bytes never reached the disk, after the checkpoint moved past its spans.
        _files.SyncFile(dataPath);
        (_meta.DataBytes, _meta.DataCrc32) = Checksum(dataPath);
        // Sized by the traces actually written: a compaction's outputs each hold a part of its sources.
        var bloomFilter = BloomFilter.Create(_traceIds.Count, _options.BloomFalsePositiveRate);
        foreach (var traceId in _traceIds)
        {
            bloomFilter.Add(traceId);
        }

        var bloom = bloomFilter.ToBytes();
        _meta.BloomBytes = bloom.Length;
        _meta.BloomCrc32 = Crc32.HashToUInt32(bloom);
        DurableFiles.WriteAndSync(_files, Path.Combine(_tempDirectory, BlockMeta.BloomFileName), bloom);
        var tags = _tags.ToBytes();
        _meta.TagsBytes = tags.Length;
        _meta.TagsCrc32 = Crc32.HashToUInt32(tags);
        DurableFiles.WriteAndSync(_files, Path.Combine(_tempDirectory, TagFilters.FileName), tags);
        var traces = _traces.ToBytes();
        _meta.TracesBytes = traces.Length;
        _meta.TracesCrc32 = Crc32.HashToUInt32(traces);
        DurableFiles.WriteAndSync(_files, Path.Combine(_tempDirectory, BlockMeta.TracesFileName), traces);
        var index = _index.ToBytes();
        _meta.IndexBytes = index.Length;
        _meta.IndexCrc32 = Crc32.HashToUInt32(index);
        DurableFiles.WriteAndSync(_files, Path.Combine(_tempDirectory, SearchIndex.FileName), index);
        foreach (var (service, operations) in _operations)
        {
            _meta.Services[service] = operations.OrderBy(o => o.Name, StringComparer.Ordinal).ThenBy(o => o.Kind).ToList();
        }

        if (_meta.SpanCount == 0)
        {
            _meta.MinStartUnixNano = _meta.MaxStartUnixNano = 0;
        }

        _meta.Aggregates = _aggregates.ToDocument();
    }

    /// <summary>Writes meta.json and moves the sealed block to its final name: from here it is a block.</summary>
    public BlockMeta Publish()
    {
        DurableFiles.WriteAndSync(_files, Path.Combine(_tempDirectory, BlockMeta.FileName), _meta.ToJson());
        _files.MoveDirectory(_tempDirectory, _finalDirectory);
        _completed = true;
        return _meta;
    }

    public string Id => _meta.Id;

    /// <summary>
    /// Makes the new block's name durable (fsync of the tenant directory): done by the caller once the block is in
    /// its list, before the checkpoint moves past its spans or its sources are deleted. A failure here leaves a
    /// complete block that only a power loss could take back.
    /// </summary>
    public void SyncName() => _files.SyncDirectory(_tenantDirectory);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _writer.Dispose();
        RowGroupBuffer.Return(_buffer);
        if (_completed)
        {
            return;
        }

        try
        {
            _files.DeleteDirectory(_tempDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: the next start removes a *.tmp block directory as an unfinished write.
        }
    }

    internal static (long Length, uint Crc) Checksum(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var crc = new Crc32();
        crc.Append(stream);
        return (stream.Length, crc.GetCurrentHashAsUInt32());
    }

    private void AddRow(ReadOnlySpan<byte> traceBytes, Span span, int? parentRowOffset)
    {
        _meta.SpanCount++;
        _meta.MinStartUnixNano = Math.Min(_meta.MinStartUnixNano, span.StartTimeUnixNano);
        _meta.MaxStartUnixNano = Math.Max(_meta.MaxStartUnixNano, span.StartTimeUnixNano);
        // Names are interned by the decoders: a span of the operation before it skips the sets.
        if (!ReferenceEquals(span.Name, _lastOperation.Name) || span.Kind != _lastOperation.Kind || !ReferenceEquals(span.ServiceName, _lastOperation.Service))
        {
            _lastOperation = (span.ServiceName, span.Name, span.Kind);
            if (!_operations.TryGetValue(span.ServiceName, out var operations))
            {
                operations = [];
                _operations.Add(span.ServiceName, operations);
            }

            operations.Add(new OperationInfo(span.Name, span.Kind));
        }

        _tags.Add(span, _index);
        if (!ReferenceEquals(span.Resource, _lastResource.Resource))
        {
            if (!_resourceBytes.TryGetValue(span.Resource, out var bytes))
            {
                bytes = Encode(span.Resource, SpanCodec.WriteResource);
                _resourceBytes.Add(span.Resource, bytes);
            }

            _lastResource = (span.Resource, bytes);
        }

        if (!ReferenceEquals(span.Scope, _lastScope.Scope))
        {
            if (!_scopeBytes.TryGetValue(span.Scope, out var bytes))
            {
                bytes = Encode(span.Scope, SpanCodec.WriteScope);
                _scopeBytes.Add(span.Scope, bytes);
            }

            _lastScope = (span.Scope, bytes);
        }

        var resource = _lastResource.Bytes;
        var scope = _lastScope.Bytes;

        var b = _buffer;
        b.TraceIds.Add(traceBytes);
        Span<byte> id = stackalloc byte[SpanId.ByteLength];
        span.SpanId.WriteBytes(id);
        b.SpanIds.Add(id);
        // A parent among the trace's rows is a small row offset: its 8 random bytes again cost 4.7 B/span (docs/PERFORMANCE.md).
        if (span.ParentSpanId.IsEmpty || parentRowOffset is not null)
        {
            b.ParentSpanIds.AddNull();
        }
        else
        {
            span.ParentSpanId.WriteBytes(id);
            b.ParentSpanIds.Add(id);
        }

        b.ParentRowOffsets.Add(parentRowOffset);
        b.Services.Add(span.ServiceName);
        b.Names.Add(span.Name);
        b.Kinds.Add((int)span.Kind);
        b.Starts.Add(span.StartTimeUnixNano);
        b.Durations.Add(span.DurationNanos);
        b.StatusCodes.Add((int)span.StatusCode);
        b.StatusMessages.Add(span.StatusMessage);
        b.TraceStates.Add(span.TraceState);
        b.Flags.Add((int)span.Flags);
        b.Resources.Add(resource);
        b.Scopes.Add(scope);
        SpanCodec.WriteAttributes(b.Attributes, span.Attributes);
        b.Attributes.Commit();
        SpanCodec.WriteEvents(b.Events, span.Events);
        b.Events.Commit();
        SpanCodec.WriteLinks(b.Links, span.Links);
        b.Links.Commit();
        b.DroppedCounts.Add(PackDropped(span.DroppedAttributesCount, span.DroppedEventsCount, span.DroppedLinksCount));
    }

    /// <summary>Three 21-bit counters in one column: almost always zero, so the column costs nearly nothing.</summary>
    internal static long PackDropped(uint attributes, uint events, uint links) =>
        Math.Min(attributes, 0x1FFFFF) | ((long)Math.Min(events, 0x1FFFFF) << 21) | ((long)Math.Min(links, 0x1FFFFF) << 42);

    /// <summary>A resource's or scope's encoding, through the writer's scratch buffer (a static method group: no closure).</summary>
    private byte[] Encode<T>(T value, Action<IBufferWriter<byte>, T> write)
    {
        _scratch.ResetWrittenCount();
        write(_scratch, value);
        return _scratch.WrittenSpan.ToArray();
    }

    private void FlushRowGroup()
    {
        var b = _buffer;
        if (b.Count == 0)
        {
            return;
        }

        long minStart = long.MaxValue, maxStart = long.MinValue, maxDuration = 0;
        foreach (var start in b.Starts)
        {
            minStart = Math.Min(minStart, start);
            maxStart = Math.Max(maxStart, start);
        }

        foreach (var duration in b.Durations)
        {
            maxDuration = Math.Max(maxDuration, duration);
        }

        _meta.RowGroups.Add(new RowGroupMeta
        {
            Rows = b.Count,
            MinTraceId = _groupMinTrace.ToHex(),
            MaxTraceId = _groupMaxTrace.ToHex(),
            MinStartUnixNano = minStart,
            MaxStartUnixNano = maxStart,
            MaxDurationNanos = maxDuration,
        });

        using var rowGroup = _writer.AppendRowGroup();
        b.TraceIds.WriteTo(rowGroup);
        b.SpanIds.WriteTo(rowGroup);
        b.ParentSpanIds.WriteTo(rowGroup);
        b.Services.WriteTo(rowGroup);
        b.Names.WriteTo(rowGroup);
        Write(rowGroup, b.Kinds);
        Write(rowGroup, b.Starts);
        Write(rowGroup, b.Durations);
        Write(rowGroup, b.StatusCodes);
        b.StatusMessages.WriteTo(rowGroup);
        b.TraceStates.WriteTo(rowGroup);
        Write(rowGroup, b.Flags);
        b.Resources.WriteTo(rowGroup);
        b.Scopes.WriteTo(rowGroup);
        b.Attributes.WriteTo(rowGroup);
        b.Events.WriteTo(rowGroup);
        b.Links.WriteTo(rowGroup);
        Write(rowGroup, b.DroppedCounts);
        Write(rowGroup, b.ParentRowOffsets);
        b.Clear();
        _tags.EndRowGroup();
        _index.EndRowGroup();
        _traces.EndRowGroup();
        _groupMinTrace = new TraceId(ulong.MaxValue, ulong.MaxValue);
        _groupMaxTrace = default;
    }

    private static void Write<T>(RowGroupWriter rowGroup, List<T> values)
    {
        using var column = rowGroup.NextColumn().LogicalWriter<T>();
        column.WriteBatch(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values));
    }

    private sealed class RowGroupBuffer(int capacity)
    {
        // A buffer grows to a row group's bytes (megabytes for the attributes): the next writer (the next cut, a
        // compaction) takes it as it is instead of growing a new one from 64 KiB. Two cover a cut beside a compaction;
        // one grown past MaxSpareBytes by outsized values is left to the GC.
        private const int MaxSpare = 2;
        private const long MaxSpareBytes = 64L << 20;
        private static readonly Stack<RowGroupBuffer> s_spare = new();
        private readonly int _capacity = capacity;

        public static RowGroupBuffer Rent(int capacity)
        {
            lock (s_spare)
            {
                while (s_spare.TryPop(out var spare))
                {
                    if (spare._capacity == capacity)
                    {
                        return spare;
                    }
                }
            }

            return new RowGroupBuffer(capacity);
        }

        public static void Return(RowGroupBuffer buffer)
        {
            buffer.Clear();
            if (buffer.Columns.Sum(c => (long)c.Capacity) > MaxSpareBytes)
            {
                return;
            }

            lock (s_spare)
            {
                if (s_spare.Count < MaxSpare)
                {
                    s_spare.Push(buffer);
                }
            }
        }

        public ByteColumnBuffer TraceIds { get; } = new();
        public ByteColumnBuffer SpanIds { get; } = new();
        public ByteColumnBuffer ParentSpanIds { get; } = new();
        public ByteColumnBuffer Services { get; } = new();
        public ByteColumnBuffer Names { get; } = new();
        public List<int> Kinds { get; } = new(capacity);
        public List<long> Starts { get; } = new(capacity);
        public List<long> Durations { get; } = new(capacity);
        public List<int> StatusCodes { get; } = new(capacity);
        public ByteColumnBuffer StatusMessages { get; } = new();
        public ByteColumnBuffer TraceStates { get; } = new();
        public List<int> Flags { get; } = new(capacity);
        public ByteColumnBuffer Resources { get; } = new();
        public ByteColumnBuffer Scopes { get; } = new();
        public ByteColumnBuffer Attributes { get; } = new();
        public ByteColumnBuffer Events { get; } = new();
        public ByteColumnBuffer Links { get; } = new();
        public List<long> DroppedCounts { get; } = new(capacity);
        public List<int?> ParentRowOffsets { get; } = new(capacity);

        public int Count => TraceIds.Count;

        private IEnumerable<ByteColumnBuffer> Columns =>
            [TraceIds, SpanIds, ParentSpanIds, Services, Names, StatusMessages, TraceStates, Resources, Scopes, Attributes, Events, Links];

        public void Clear()
        {
            TraceIds.Clear();
            SpanIds.Clear();
            ParentSpanIds.Clear();
            Services.Clear();
            Names.Clear();
            Kinds.Clear();
            Starts.Clear();
            Durations.Clear();
            StatusCodes.Clear();
            StatusMessages.Clear();
            TraceStates.Clear();
            Flags.Clear();
            Resources.Clear();
            Scopes.Clear();
            Attributes.Clear();
            Events.Clear();
            Links.Clear();
            DroppedCounts.Clear();
            ParentRowOffsets.Clear();
        }
    }
}
