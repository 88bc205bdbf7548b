using System.Globalization;

namespace Ariadne.Storage.ClickHouse;

public readonly record struct DroppedPartition(Uri Node, string Table, DateOnly Day);

/// <summary>
/// Retention by dropping whole day partitions: 18.16 has no TTL, and a dropped partition costs nothing to reclaim
/// (no mutation, no merge). DROP PARTITION is refused by Distributed tables, so it runs on each node's local table.
/// </summary>
public static class ClickHouseRetention
{
    /// <summary>Drops the day partitions older than the retention of their table, on every node.</summary>
    public static async Task<IReadOnlyList<DroppedPartition>> RunAsync(ClickHouseSpanStore store, ClickHouseOptions options, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var schema = await store.InitializeAsync(cancellationToken);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var dropped = new List<DroppedPartition>();
        foreach (var node in store.Nodes)
        {
            foreach (var (table, aggregate) in ClickHouseSchema.PartitionedTables)
            {
                var keepFrom = today.AddDays(-(aggregate ? options.AggregateRetentionDays : options.SpanRetentionDays));
                var local = schema.LocalTableName(table);
                var partitions = await node.QueryRowsAsync(
                    $"SELECT DISTINCT partition FROM system.parts WHERE active AND database = {ClickHouseSql.Quote(schema.Database)} AND table = {ClickHouseSql.Quote(local)}",
                    cancellationToken);
                foreach (var row in partitions)
                {
                    var day = DateOnly.ParseExact(row[0], "yyyy-MM-dd", CultureInfo.InvariantCulture);
                    if (day < keepFrom)
                    {
                        await node.ExecuteAsync($"ALTER TABLE {schema.LocalTable(table)} DROP PARTITION {ClickHouseSql.Quote(row[0])}", cancellationToken);
                        dropped.Add(new DroppedPartition(node.BaseUri, local, day));
                    }
                }
            }
        }

        return dropped;
    }
}

/// <summary>
/// Migrates the schema when the server starts (so a bad URL or cluster stops `ariadne serve` with its message),
/// then runs retention and refreshes the size figures every <see cref="ClickHouseOptions.MaintenanceInterval"/>.
/// </summary>
public sealed class ClickHouseMaintenance(ClickHouseSpanStore store, ClickHouseOptions options, TimeProvider time, ILogger<ClickHouseMaintenance> logger)
    : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var schema = await store.InitializeAsync(cancellationToken);
        logger.LogInformation("ClickHouse {Version} at {Url}: schema version {Schema} in database {Database}{Cluster}",
            schema.Version, options.Url, ClickHouseMigrations.Latest, schema.Database, schema.IsCluster ? $", cluster {schema.Cluster}" : string.Empty);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>One round of maintenance; the loop calls it, and so do tests with a fake clock.</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var dropped = await ClickHouseRetention.RunAsync(store, options, time.GetUtcNow(), cancellationToken);
        foreach (var partition in dropped)
        {
            logger.LogInformation("Retention dropped {Table} partition {Day} on {Node}", partition.Table, partition.Day, partition.Node);
        }

        await store.RefreshStatsAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (ClickHouseException e)
            {
                logger.LogWarning("ClickHouse maintenance failed, retrying in {Interval}: {Message}", options.MaintenanceInterval, e.Message);
            }

            await Task.Delay(options.MaintenanceInterval, time, stoppingToken);
        }
    }
}
