using System.Globalization;
using System.Text.Json;

namespace Ariadne.Storage.Embedded.Aggregation;

/// <summary>
/// Aggregates of blocks that retention has deleted: one JSON file per tenant and UTC day
/// (<c>aggregates/&lt;tenant&gt;/&lt;yyyy-MM-dd&gt;.json</c>), per-minute buckets rolled up to hourly ones once the day is
/// older than <see cref="EmbeddedStorageOptions.MinuteAggregatesFor"/>, the file deleted after
/// <see cref="EmbeddedStorageOptions.AggregateRetention"/>. Each file lists the blocks it absorbed, so a crash between
/// absorbing a block and deleting it neither loses nor double-counts it.
/// </summary>
public sealed class AggregateStore
{
    private readonly string _directory;
    private readonly IDurableFiles _files;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Tenant, DateOnly Day), DayFile> _days = [];

    private AggregateStore(string directory, IDurableFiles files)
    {
        _directory = directory;
        _files = files;
    }

    public static AggregateStore Load(string directory, IDurableFiles files)
    {
        var store = new AggregateStore(directory, files);
        if (!Directory.Exists(directory))
        {
            return store;
        }

        foreach (var tenantDirectory in Directory.EnumerateDirectories(directory))
        {
            foreach (var path in Directory.EnumerateFiles(tenantDirectory, "*.json"))
            {
                var file = JsonSerializer.Deserialize<DayFile>(File.ReadAllBytes(path), Blocks.BlockMeta.s_json)
                    ?? throw new InvalidDataException($"{path} is empty.");
                store._days[(file.Tenant, DateOnly.ParseExact(Path.GetFileNameWithoutExtension(path), "yyyy-MM-dd", CultureInfo.InvariantCulture))] = file;
            }
        }

        return store;
    }

    public HashSet<string> AbsorbedBlockIds()
    {
        lock (_lock)
        {
            return _days.Values.SelectMany(d => d.AbsorbedBlocks).ToHashSet(StringComparer.Ordinal);
        }
    }

    public int FileCount
    {
        get
        {
            lock (_lock)
            {
                return _days.Count;
            }
        }
    }

    /// <summary>Moves a block's aggregates into the day files (idempotent per block id).</summary>
    public void Absorb(string tenant, string blockId, Aggregates aggregates, DateTimeOffset now, TimeSpan minuteAggregatesFor)
    {
        var byDay = new Dictionary<DateOnly, Aggregates>();
        Aggregates For(long bucket)
        {
            var day = DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeSeconds(bucket).UtcDateTime);
            if (!byDay.TryGetValue(day, out var part))
            {
                part = new Aggregates();
                byDay.Add(day, part);
            }

            return part;
        }

        foreach (var (key, stats) in aggregates.Operations)
        {
            var part = For(key.BucketUnixSeconds);
            var single = new Aggregates();
            single.Operations.Add(key, stats);
            part.Merge(single);
        }

        foreach (var (key, stats) in aggregates.Edges)
        {
            For(key.BucketUnixSeconds).AddEdge(key, stats.Calls, stats.Errors);
        }

        lock (_lock)
        {
            foreach (var (day, part) in byDay)
            {
                var file = _days.GetValueOrDefault((tenant, day)) ?? new DayFile { Tenant = tenant, BucketSeconds = 60 };
                if (file.AbsorbedBlocks.Contains(blockId))
                {
                    continue;
                }

                // A new version, in memory only once it is on disk: a failed save must leave the day as the file has it.
                var merged = Aggregates.FromDocument(file.Aggregates);
                merged.Merge(part, IsRolledUp(day, now, minuteAggregatesFor) ? 3600 : file.BucketSeconds);
                var updated = new DayFile
                {
                    Tenant = tenant,
                    BucketSeconds = file.BucketSeconds,
                    AbsorbedBlocks = [.. file.AbsorbedBlocks, blockId],
                    Aggregates = merged.ToDocument(),
                };
                Save(tenant, day, updated);
                _days[(tenant, day)] = updated;
            }
        }
    }

    /// <summary>Rolls old per-minute days up to hourly buckets and deletes days past the aggregate retention.</summary>
    public (int RolledUp, int Deleted) Maintain(DateTimeOffset now, TimeSpan minuteAggregatesFor, TimeSpan aggregateRetention)
    {
        int rolledUp = 0, deleted = 0;
        lock (_lock)
        {
            foreach (var ((tenant, day), file) in _days.ToList())
            {
                var dayEnd = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(1);
                if (dayEnd < now - aggregateRetention)
                {
                    _files.DeleteFile(PathOf(tenant, day));
                    _days.Remove((tenant, day));
                    deleted++;
                    continue;
                }

                if (file.BucketSeconds == 60 && IsRolledUp(day, now, minuteAggregatesFor))
                {
                    var hourly = new Aggregates();
                    hourly.Merge(Aggregates.FromDocument(file.Aggregates), 3600);
                    var updated = new DayFile { Tenant = tenant, BucketSeconds = 3600, AbsorbedBlocks = file.AbsorbedBlocks, Aggregates = hourly.ToDocument() };
                    Save(tenant, day, updated);
                    _days[(tenant, day)] = updated;
                    rolledUp++;
                }
            }
        }

        return (rolledUp, deleted);
    }

    public void AddEdgesTo(string tenant, Dictionary<(string Parent, string Child), (long Calls, long Errors)> edges, long fromSeconds, long toSeconds)
    {
        lock (_lock)
        {
            foreach (var ((fileTenant, _), file) in _days)
            {
                if (fileTenant == tenant)
                {
                    // Hourly buckets start up to an hour before the window and still hold calls inside it.
                    Aggregates.FromDocument(file.Aggregates).AddEdgesTo(edges, fromSeconds - file.BucketSeconds + 1, toSeconds);
                }
            }
        }
    }

    private static bool IsRolledUp(DateOnly day, DateTimeOffset now, TimeSpan minuteAggregatesFor) =>
        new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(1) < now - minuteAggregatesFor;

    private string PathOf(string tenant, DateOnly day) =>
        Path.Combine(_directory, EmbeddedSpanStore.TenantDirectoryName(tenant), day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + ".json");

    private void Save(string tenant, DateOnly day, DayFile file)
    {
        var path = PathOf(tenant, day);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        DurableFiles.Replace(_files, path, JsonSerializer.SerializeToUtf8Bytes(file, Blocks.BlockMeta.s_json));
    }

    private sealed class DayFile
    {
        public required string Tenant { get; set; }

        /// <summary>60 while the day keeps per-minute buckets, 3600 once rolled up.</summary>
        public long BucketSeconds { get; set; }

        public List<string> AbsorbedBlocks { get; set; } = [];

        public AggregatesDocument Aggregates { get; set; } = new();
    }
}
