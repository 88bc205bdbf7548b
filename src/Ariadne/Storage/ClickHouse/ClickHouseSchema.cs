using System.Globalization;

namespace Ariadne.Storage.ClickHouse;

/// <summary>A server version from <c>SELECT version()</c>, compared to switch newer features on.</summary>
public readonly record struct ClickHouseVersion(int Major, int Minor) : IComparable<ClickHouseVersion>
{
    /// <summary>From 20.1 on: column codecs, data-skipping indexes and LowCardinality without an experimental setting.</summary>
    public bool HasModernFeatures => Major >= 20;

    public static ClickHouseVersion Parse(string text)
    {
        var parts = text.Trim().Split('.');
        return new ClickHouseVersion(
            int.Parse(parts[0], CultureInfo.InvariantCulture),
            parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 0);
    }

    public int CompareTo(ClickHouseVersion other) => Major != other.Major ? Major.CompareTo(other.Major) : Minor.CompareTo(other.Minor);

    public override string ToString() => $"{Major}.{Minor}";
}

/// <summary>
/// Table names and DDL. Single node: plain MergeTree tables. Cluster: every table is <c>NAME_local</c> on each node
/// plus a Distributed <c>NAME</c> over the cluster sharded by trace id, so a trace and its index row live on one
/// shard; materialized views read the local spans table, so aggregates stay on the shard that holds the spans.
/// </summary>
public sealed class ClickHouseSchema(string database, string? cluster, ClickHouseVersion version)
{
    /// <summary>
    /// Day-partitioned tables whose partitions retention drops, with the retention class of each and the expression
    /// of a row's day (the partition key), for deleting one tenant's old rows.
    /// </summary>
    public static readonly (string Table, bool Aggregate, string Day)[] PartitionedTables =
    [
        ("spans", false, DayOf("start_ns")),
        ("trace_index", false, DayOf("start_min")),
        ("operations", false, "day"),
        ("red_minutes", true, "toDate(minute)"),
        ("logs", false, DayOf("time_ns")),
        ("call_minutes", true, "toDate(minute)"),
        ("edge_minutes", true, "toDate(minute)"),
    ];

    public string Database { get; } = database;

    /// <summary>Settings of every INSERT: on a cluster the Distributed table must hand rows to their shard before answering.</summary>
    public (string Name, string Value)[] InsertSettings => IsCluster ? [("insert_distributed_sync", "1")] : [];

    public string? Cluster { get; } = cluster;

    public ClickHouseVersion Version { get; } = version;

    public bool IsCluster => Cluster is not null;

    /// <summary>The table queries and inserts name: the Distributed one in cluster mode.</summary>
    public string Table(string name) => $"{Database}.{name}";

    /// <summary>The table that holds the data on a node; retention and size figures work on it.</summary>
    public string LocalTableName(string name) => IsCluster ? name + "_local" : name;

    public string LocalTable(string name) => $"{Database}.{LocalTableName(name)}";

    /// <summary>A string column type: LowCardinality where the server supports it without experimental settings.</summary>
    public string Dictionary => Version.HasModernFeatures ? "LowCardinality(String)" : "String";

    /// <summary>Statements that create a table (and its Distributed twin in cluster mode); each is idempotent.</summary>
    public IEnumerable<string> CreateTable(string name, string columns, string engine, string shardingKey)
    {
        yield return $"CREATE TABLE IF NOT EXISTS {LocalTable(name)} ({columns}) ENGINE = {engine}";
        if (IsCluster)
        {
            yield return $"CREATE TABLE IF NOT EXISTS {Table(name)} AS {LocalTable(name)} ENGINE = Distributed({Cluster}, {Database}, {LocalTableName(name)}, {shardingKey})";
        }
    }

    /// <summary>The partition (day) expression of a nanosecond column.</summary>
    public static string DayOf(string nanosColumn) => $"toDate(toDateTime(intDiv({nanosColumn}, 1000000000)))";
}
