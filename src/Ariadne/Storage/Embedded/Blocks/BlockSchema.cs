using ParquetSharp;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>The Parquet columns of a block, in file order (docs/storage-format.md).</summary>
internal static class BlockSchema
{
    public const int TraceId = 0;
    public const int SpanId = 1;
    public const int ParentSpanId = 2;
    public const int ServiceName = 3;
    public const int Name = 4;
    public const int Kind = 5;
    public const int StartTime = 6;
    public const int Duration = 7;
    public const int StatusCode = 8;
    public const int StatusMessage = 9;
    public const int TraceState = 10;
    public const int Flags = 11;
    public const int Resource = 12;
    public const int Scope = 13;
    public const int Attributes = 14;
    public const int Events = 15;
    public const int Links = 16;
    public const int DroppedCounts = 17;

    /// <summary>Last, so the columns of blocks written before it keep their positions; such blocks lack it.</summary>
    public const int ParentRowOffset = 18;

    public static Column[] Columns() =>
    [
        new Column<byte[]>("trace_id"),
        new Column<byte[]>("span_id"),
        new Column<byte[]>("parent_span_id"),
        new Column<string>("service_name"),
        new Column<string>("name"),
        new Column<int>("kind"),
        new Column<long>("start_time_unix_nano"),
        new Column<long>("duration_nano"),
        new Column<int>("status_code"),
        new Column<string>("status_message"),
        new Column<string>("trace_state"),
        new Column<int>("flags"),
        new Column<byte[]>("resource"),
        new Column<byte[]>("scope"),
        new Column<byte[]>("attributes"),
        new Column<byte[]>("events"),
        new Column<byte[]>("links"),
        new Column<long>("dropped_counts"),
        new Column<int?>("parent_row_offset"),
    ];

    public static WriterProperties WriterProperties(int compressionLevel)
    {
        using var builder = new WriterPropertiesBuilder()
            .Compression(Compression.Zstd)
            .CompressionLevel(compressionLevel)
            .CreatedBy("ariadne embedded storage")
            // Random ids gain nothing from a dictionary, and DuckDB mis-compares dictionary-encoded BLOB ids.
            .DisableDictionary("trace_id")
            .DisableDictionary("span_id")
            .DisableDictionary("parent_span_id")
            .DisableDictionary("start_time_unix_nano")
            .DisableDictionary("duration_nano")
            .DisableDictionary("attributes")
            .DisableDictionary("events")
            .DisableDictionary("links");
        return builder.Build();
    }
}
