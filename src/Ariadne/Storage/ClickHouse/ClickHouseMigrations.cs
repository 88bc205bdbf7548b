using System.Text;

namespace Ariadne.Storage.ClickHouse;

/// <summary>One step of the schema; its statements are idempotent so a step cut short can run again.</summary>
public sealed record ClickHouseMigration(int Version, string Name, Func<ClickHouseSchema, IEnumerable<string>> Statements);

/// <summary>
/// The versioned schema. Each node records the steps it has applied in <c>schema_migrations</c>; start-up applies
/// the missing ones in order on every node (18.16 cannot run ON CLUSTER without ZooKeeper). Never edit a step
/// that has shipped: add the next one.
/// </summary>
public static class ClickHouseMigrations
{
    public static readonly IReadOnlyList<ClickHouseMigration> All =
    [
        new(1, "spans, trace index, operations", Initial),
        new(2, "RED per minute", RedPerMinute),
        new(3, "log records", Logs),
        new(4, "RED and dependency edges per minute, counted before sampling", PreSamplingMinutes),
    ];

    public static int Latest => All[^1].Version;

    /// <summary>Applies the missing steps up to <paramref name="targetVersion"/> on every node.</summary>
    public static async Task<int> ApplyAsync(IReadOnlyList<ClickHouseClient> nodes, ClickHouseSchema schema, int targetVersion, CancellationToken cancellationToken)
    {
        var applied = 0;
        foreach (var node in nodes)
        {
            await node.ExecuteAsync($"CREATE DATABASE IF NOT EXISTS {schema.Database}", cancellationToken);
            await node.ExecuteAsync(
                $"CREATE TABLE IF NOT EXISTS {schema.Database}.schema_migrations (version UInt32, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version",
                cancellationToken);
            var done = (await node.QueryRowsAsync($"SELECT version FROM {schema.Database}.schema_migrations", cancellationToken))
                .Select(row => int.Parse(row[0], System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
            foreach (var migration in All.Where(m => m.Version <= targetVersion && !done.Contains(m.Version)))
            {
                foreach (var statement in migration.Statements(schema))
                {
                    await node.ExecuteAsync(statement, cancellationToken);
                }

                await node.ExecuteAsync(
                    $"INSERT INTO {schema.Database}.schema_migrations VALUES ({migration.Version}, {ClickHouseSql.Quote(migration.Name)}, now())",
                    cancellationToken);
                applied++;
            }
        }

        return applied;
    }

    /// <summary>The lowest schema version over the nodes (0 when a node has none).</summary>
    public static async Task<int> CurrentVersionAsync(IReadOnlyList<ClickHouseClient> nodes, string database, CancellationToken cancellationToken)
    {
        var lowest = int.MaxValue;
        foreach (var node in nodes)
        {
            var exists = await node.QueryRowsAsync(
                $"SELECT count() FROM system.tables WHERE database = {ClickHouseSql.Quote(database)} AND name = 'schema_migrations'", cancellationToken);
            if (exists[0][0] == "0")
            {
                return 0;
            }

            var rows = await node.QueryRowsAsync($"SELECT max(version) FROM {database}.schema_migrations", cancellationToken);
            lowest = Math.Min(lowest, int.Parse(rows[0][0], System.Globalization.CultureInfo.InvariantCulture));
        }

        return lowest == int.MaxValue ? 0 : lowest;
    }

    private static IEnumerable<string> Initial(ClickHouseSchema s)
    {
        var columns = new StringBuilder();
        foreach (var (name, type) in SpanRows.Columns)
        {
            var columnType = name is "tenant" or "service" or "name" or "scope_name" ? s.Dictionary : type;
            columns.Append(name).Append(' ').Append(columnType);
            if (s.Version.HasModernFeatures)
            {
                columns.Append(name switch
                {
                    "start_ns" => " CODEC(Delta, ZSTD(1))",
                    "tenant" or "service" or "name" or "kind" => string.Empty,
                    _ => " CODEC(ZSTD(1))",
                });
            }

            columns.Append(", ");
        }

        if (s.Version.HasModernFeatures)
        {
            // Business ids are high-cardinality: a bloom filter per granule skips most of a day when searching one.
            foreach (var (_, column) in SpanRows.BusinessKeys)
            {
                columns.Append($"INDEX idx_{column} {column} TYPE bloom_filter(0.01) GRANULARITY 1, ");
            }
        }

        columns.Length -= 2;

        // Ordered for search (service, operation, time); trace-by-id reads only the granules of the (service,
        // operation) pairs and the time range the trace index names. A small granule keeps those reads narrow.
        foreach (var statement in s.CreateTable(
            "spans",
            columns.ToString(),
            $"MergeTree PARTITION BY {ClickHouseSchema.DayOf("start_ns")} ORDER BY (tenant, service, name, start_ns) SETTINGS index_granularity = 2048",
            "cityHash64(trace_id)"))
        {
            yield return statement;
        }

        foreach (var statement in s.CreateTable(
            "trace_index",
            $"tenant {s.Dictionary}, trace_id FixedString(16), start_min UInt64, start_max UInt64, op_services Array(String), op_names Array(String), spans UInt64",
            $"MergeTree PARTITION BY {ClickHouseSchema.DayOf("start_min")} ORDER BY (tenant, trace_id) SETTINGS index_granularity = 1024",
            "cityHash64(trace_id)"))
        {
            yield return statement;
        }

        // One row per trace per inserted block; readers combine the rows of a trace. The (service, operation) pairs
        // are two parallel arrays: 18.16 cannot store Array(Tuple(...)).
        yield return $"""
            CREATE MATERIALIZED VIEW IF NOT EXISTS {s.Database}.trace_index_mv TO {s.LocalTable("trace_index")} AS
            SELECT tenant, trace_id, min(start_ns) AS start_min, max(start_ns) AS start_max,
                   arrayMap(op -> op.1, groupUniqArray((service, name)) AS ops) AS op_services, arrayMap(op -> op.2, ops) AS op_names,
                   count() AS spans
            FROM {s.LocalTable("spans")} GROUP BY tenant, trace_id
            """;

        foreach (var statement in s.CreateTable(
            "operations",
            $"tenant {s.Dictionary}, service {s.Dictionary}, name {s.Dictionary}, kind UInt8, day Date, spans UInt64",
            "SummingMergeTree(spans) PARTITION BY day ORDER BY (tenant, service, name, kind, day)",
            "rand()"))
        {
            yield return statement;
        }

        yield return $"""
            CREATE MATERIALIZED VIEW IF NOT EXISTS {s.Database}.operations_mv TO {s.LocalTable("operations")} AS
            SELECT tenant, service, name, kind, {ClickHouseSchema.DayOf("start_ns")} AS day, count() AS spans
            FROM {s.LocalTable("spans")} GROUP BY tenant, service, name, kind, day
            """;
    }

    /// <summary>
    /// OTLP log records: one row per trace per request, the records compressed together (the embedded engine's
    /// record codec), sharded like spans so a trace's logs live on its shard; read by trace id only.
    /// </summary>
    private static IEnumerable<string> Logs(ClickHouseSchema s) => s.CreateTable(
        "logs",
        $"tenant {s.Dictionary}, trace_id FixedString(16), time_ns UInt64, records String",
        $"MergeTree PARTITION BY {ClickHouseSchema.DayOf("time_ns")} ORDER BY (tenant, trace_id, time_ns) SETTINGS index_granularity = 1024",
        "cityHash64(trace_id)");

    /// <summary>
    /// Figures per minute from every span before sampling (<see cref="Minutes.ClickHouseMinuteFeed"/>): one row per
    /// key per write, each with the writing node and the log position it reaches (what makes a replay count once).
    /// Sharded by node, so one INSERT lands on one shard whole. The after-sampling <c>red_minutes</c> view stops:
    /// its counts were a sample's; the table keeps what it holds until retention drops it.
    /// </summary>
    private static IEnumerable<string> PreSamplingMinutes(ClickHouseSchema s)
    {
        const string Origin = "node String, through_segment UInt64, through_offset UInt64";
        foreach (var statement in s.CreateTable(
            "call_minutes",
            $"{Origin}, tenant {s.Dictionary}, service {s.Dictionary}, name {s.Dictionary}, kind UInt8, minute DateTime, calls UInt64, errors UInt64, duration_sum Int64, duration_buckets Array(UInt64)",
            "MergeTree PARTITION BY toDate(minute) ORDER BY (tenant, service, name, kind, minute)",
            "cityHash64(node)"))
        {
            yield return statement;
        }

        foreach (var statement in s.CreateTable(
            "edge_minutes",
            $"{Origin}, tenant {s.Dictionary}, parent {s.Dictionary}, child {s.Dictionary}, minute DateTime, calls UInt64, errors UInt64",
            "MergeTree PARTITION BY toDate(minute) ORDER BY (tenant, minute, parent, child)",
            "cityHash64(node)"))
        {
            yield return statement;
        }

        yield return $"DROP TABLE IF EXISTS {s.Database}.red_minutes_mv";
    }

    private static IEnumerable<string> RedPerMinute(ClickHouseSchema s)
    {
        foreach (var statement in s.CreateTable(
            "red_minutes",
            $"""
            tenant {s.Dictionary}, service {s.Dictionary}, name {s.Dictionary}, kind UInt8, minute DateTime,
            calls AggregateFunction(count), errors AggregateFunction(countIf, UInt8),
            duration_sum AggregateFunction(sum, Int64),
            duration_quantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), Int64)
            """,
            "AggregatingMergeTree PARTITION BY toDate(minute) ORDER BY (tenant, service, name, kind, minute)",
            "rand()"))
        {
            yield return statement;
        }

        yield return $"""
            CREATE MATERIALIZED VIEW IF NOT EXISTS {s.Database}.red_minutes_mv TO {s.LocalTable("red_minutes")} AS
            SELECT tenant, service, name, kind, toStartOfMinute(toDateTime(intDiv(start_ns, 1000000000))) AS minute,
                   countState() AS calls, countIfState(status_code = 2) AS errors,
                   sumState(duration_ns) AS duration_sum,
                   quantilesTDigestState(0.5, 0.95, 0.99)(duration_ns) AS duration_quantiles
            FROM {s.LocalTable("spans")} GROUP BY tenant, service, name, kind, minute
            """;
    }
}
