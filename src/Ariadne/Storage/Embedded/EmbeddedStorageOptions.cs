namespace Ariadne.Storage.Embedded;

/// <summary>Settings of the embedded engine (<c>Embedded:*</c> keys); the data directory is <c>DataDirectory</c>.</summary>
public sealed class EmbeddedStorageOptions
{
    /// <summary>
    /// How long the WAL writer waits to gather more records before each fsync. Zero fsyncs as soon as the previous
    /// fsync finished, which already groups every request that arrived meanwhile.
    /// </summary>
    public TimeSpan GroupCommitInterval { get; set; } = TimeSpan.Zero;

    /// <summary>The head (recent spans, in memory) is cut into blocks at this many spans, all tenants together.</summary>
    public int HeadMaxSpans { get; set; } = 200_000;

    /// <summary>...or when its oldest span arrived this long ago.</summary>
    public TimeSpan HeadMaxAge { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Spans per Parquet row group: the unit a trace lookup reads.</summary>
    public int RowGroupSpans { get; set; } = 8192;

    /// <summary>Compaction merges blocks until a block holds about this many spans.</summary>
    public long CompactionTargetSpans { get; set; } = 2_000_000;

    /// <summary>
    /// Compaction splits its output at these boundaries of span time, so a merged block holds one window and retention
    /// can drop whole blocks; blocks that straddle windows (a backfill, late spans, a replay) are split, not left out.
    /// </summary>
    public TimeSpan CompactionWindow { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan CompactionInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long detailed spans are kept; blocks whose newest span is older are deleted whole.</summary>
    public TimeSpan DetailedRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Per-tenant overrides of <see cref="DetailedRetention"/>, from Tenancy:Tenants:N:DetailedRetention (not a key of its own).</summary>
    internal IReadOnlyDictionary<string, TimeSpan> TenantDetailedRetention { get; private set; } = new Dictionary<string, TimeSpan>();

    /// <summary>How long aggregates (RED, latency histograms, dependency edges) are kept.</summary>
    public TimeSpan AggregateRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Per-minute aggregates older than this are rolled up to hourly ones.</summary>
    public TimeSpan MinuteAggregatesFor { get; set; } = TimeSpan.FromDays(1);

    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>False-positive rate of each block's trace-id bloom filter.</summary>
    public double BloomFalsePositiveRate { get; set; } = 0.01;

    /// <summary>zstd level of the blocks a head cut writes (on the ingest path: fast).</summary>
    public int CompressionLevel { get; set; } = 3;

    /// <summary>
    /// zstd level of the blocks compaction writes: they hold most of the data for the whole retention and are
    /// written in the background, so they get the denser level (9: ~6% fewer bytes than 3 for ~40% more write CPU).
    /// </summary>
    public int CompactionCompressionLevel { get; set; } = 9;

    public TimeSpan DetailedRetentionOf(string tenant) => TenantDetailedRetention.GetValueOrDefault(tenant, DetailedRetention);

    /// <summary>A copy of these settings that keeps each tenant's spans as long as Tenancy:Tenants says.</summary>
    public EmbeddedStorageOptions WithTenantRetention(Tenancy.TenancyOptions tenancy)
    {
        var copy = (EmbeddedStorageOptions)MemberwiseClone();
        copy.TenantDetailedRetention = tenancy.DetailedRetentions();
        return copy;
    }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (GroupCommitInterval < TimeSpan.Zero || GroupCommitInterval > TimeSpan.FromSeconds(1))
        {
            errors.Add($"Embedded:GroupCommitInterval: {GroupCommitInterval} must be between 00:00:00 and 00:00:01.");
        }

        if (HeadMaxSpans < 1)
        {
            errors.Add($"Embedded:HeadMaxSpans: {HeadMaxSpans} must be at least 1 (default 200000).");
        }

        if (RowGroupSpans < 64)
        {
            errors.Add($"Embedded:RowGroupSpans: {RowGroupSpans} must be at least 64 (default 8192).");
        }

        if (DetailedRetention <= TimeSpan.Zero || AggregateRetention < DetailedRetention)
        {
            errors.Add($"Embedded:DetailedRetention ({DetailedRetention}) must be positive and Embedded:AggregateRetention ({AggregateRetention}) at least as long.");
        }

        foreach (var (key, level) in new[] { ("CompressionLevel", CompressionLevel), ("CompactionCompressionLevel", CompactionCompressionLevel) })
        {
            if (level is < 1 or > 22)
            {
                errors.Add($"Embedded:{key}: {level} must be a zstd level from 1 to 22.");
            }
        }

        if (BloomFalsePositiveRate is <= 0 or >= 0.5)
        {
            errors.Add($"Embedded:BloomFalsePositiveRate: {BloomFalsePositiveRate} must be between 0 and 0.5 (default 0.01).");
        }

        return errors;
    }
}
