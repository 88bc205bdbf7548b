using System.Text.Json;
using System.Text.Json.Serialization;
using Ariadne.Model;
using Ariadne.Storage.Embedded.Aggregation;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// meta.json of a block: written last, so a block directory without it is an unfinished write. Holds what lets a
/// query skip the block or its row groups without opening the Parquet file, and the checksums `storage verify` checks.
/// </summary>
public sealed class BlockMeta
{
    public const string FileName = "meta.json";
    public const string DataFileName = "data.parquet";
    public const string BloomFileName = "bloom.bin";
    public const string TracesFileName = "traces.bin";

    /// <summary>
    /// 3: version 2 and a search index per row group (index.bin: the rows of each service, operation, error and
    /// frequent attribute value). 2: rows in the order of their trace's first span (time-sliced row groups) and a
    /// trace-id filter per row group (traces.bin); still read, searched by the tag filters alone. 1: rows sorted by
    /// trace id, found through the row groups' trace-id ranges; still read.
    /// </summary>
    public const int CurrentFormatVersion = 3;

    public const int TimeOrderedFormatVersion = 2;

    public const int TraceOrderedFormatVersion = 1;

    internal static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = false,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public int FormatVersion { get; set; } = CurrentFormatVersion;

    public required string Id { get; set; }

    public required string Tenant { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public long MinStartUnixNano { get; set; }

    public long MaxStartUnixNano { get; set; }

    public long SpanCount { get; set; }

    public long TraceCount { get; set; }

    /// <summary>0 for a block cut from the head; one more than its highest source for a compacted block.</summary>
    public int CompactionLevel { get; set; }

    /// <summary>
    /// For a block cut from the head, the ingest-log position the cut covered (<c>segment:offset</c>). A block past
    /// the engine's checkpoint is from a cut that did not finish: it is removed at start-up and its spans handed again
    /// from the log. Null for compacted blocks and blocks written before the ingest log.
    /// </summary>
    public string? LogThrough { get; set; }

    /// <summary>Blocks this one replaces; any still on disk at start-up are leftovers of a finished compaction.</summary>
    public List<string> Sources { get; set; } = [];

    public long DataBytes { get; set; }

    public uint DataCrc32 { get; set; }

    public long BloomBytes { get; set; }

    public uint BloomCrc32 { get; set; }

    /// <summary>Size of tags.bin (the row groups' tag filters); 0 for a block written before they existed.</summary>
    public long TagsBytes { get; set; }

    public uint TagsCrc32 { get; set; }

    /// <summary>Size of traces.bin (the row groups' trace-id filters); 0 in a version 1 block, which has none.</summary>
    public long TracesBytes { get; set; }

    public uint TracesCrc32 { get; set; }

    /// <summary>Size of index.bin (the row groups' search index); 0 in version 1 and 2 blocks, which have none.</summary>
    public long IndexBytes { get; set; }

    public uint IndexCrc32 { get; set; }

    /// <summary>Bytes of every file of the block but meta.json.</summary>
    [JsonIgnore]
    public long FileBytes => DataBytes + BloomBytes + TagsBytes + TracesBytes + IndexBytes;

    /// <summary>Service → operations (name and span kind) present in the block.</summary>
    public SortedDictionary<string, List<OperationInfo>> Services { get; set; } = new(StringComparer.Ordinal);

    public List<RowGroupMeta> RowGroups { get; set; } = [];

    public AggregatesDocument? Aggregates { get; set; }

    public static BlockMeta Read(string path) =>
        JsonSerializer.Deserialize<BlockMeta>(File.ReadAllBytes(path), s_json)
        ?? throw new InvalidDataException($"{path} is empty.");

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, s_json);
}

/// <summary>Index entry of one row group: its lowest and highest trace id, and its time and duration bounds.</summary>
public sealed class RowGroupMeta
{
    public int Rows { get; set; }

    public required string MinTraceId { get; set; }

    public required string MaxTraceId { get; set; }

    public long MinStartUnixNano { get; set; }

    public long MaxStartUnixNano { get; set; }

    public long MaxDurationNanos { get; set; }
}
