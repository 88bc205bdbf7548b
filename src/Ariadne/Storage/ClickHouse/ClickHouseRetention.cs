using System.Globalization;

namespace Ariadne.Storage.ClickHouse;

/// <summary>
/// Retention by dropping whole day partitions: 18.16 has no TTL, and a dropped partition costs nothing to reclaim
/// (no mutation, no merge). DROP PARTITION is refused by Distributed tables, so it runs on each node's local table.
/// Span partitions go once no tenant keeps them any more (the longest retention of all); tenants that keep their
/// spans for less have their older rows deleted (<c>ALTER TABLE ... DELETE</c>, a mutation, issued only where
/// such rows exist).
/// </summary>
public static class ClickHouseRetention
{
    /// <summary>Drops the day partitions older than the retention of their table, and deletes what shorter tenant retentions no longer keep, on every node.</summary>
    public static async Task<RetentionResult> RunAsync(ClickHouseSpanStore store, ClickHouseOptions options, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var schema = await store.InitializeAsync(cancellationToken);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var longest = options.TenantSpanRetentionDays.Values.Append(options.SpanRetentionDays).Max();
        var dropped = new List<DroppedPartition>();
        var deletions = new List<TenantDeletion>();
        foreach (var node in store.Nodes)
        {
            foreach (var (table, aggregate, day) in ClickHouseSchema.PartitionedTables)
            {
                var keepFrom = today.AddDays(-(aggregate ? Math.Max(options.AggregateRetentionDays, longest) : longest));
                var local = schema.LocalTableName(table);
                var partitions = await node.QueryRowsAsync(
                    $"SELECT DISTINCT partition FROM system.parts WHERE active AND database = {ClickHouseSql.Quote(schema.Database)} AND table = {ClickHouseSql.Quote(local)}",
                    cancellationToken);
                foreach (var row in partitions)
                {
                    var partitionDay = DateOnly.ParseExact(row[0], "yyyy-MM-dd", CultureInfo.InvariantCulture);
                    if (partitionDay < keepFrom)
                    {
                        await node.ExecuteAsync($"ALTER TABLE {schema.LocalTable(table)} DROP PARTITION {ClickHouseSql.Quote(row[0])}", cancellationToken);
                        dropped.Add(new DroppedPartition(node.BaseUri, local, partitionDay));
                    }
                }

                if (!aggregate)
                {
                    foreach (var (tenants, days) in ShorterRetentions(options, longest))
                    {
                        var where = $"{day} < toDate({ClickHouseSql.Quote(today.AddDays(-days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))}) AND {tenants}";
                        var rows = await node.QueryRowsAsync($"SELECT count() FROM {schema.LocalTable(table)} WHERE {where}", cancellationToken);
                        if (rows[0][0] != "0")
                        {
                            await node.ExecuteAsync($"ALTER TABLE {schema.LocalTable(table)} DELETE WHERE {where}", cancellationToken);
                            deletions.Add(new TenantDeletion(node.BaseUri, local, tenants, days, long.Parse(rows[0][0], CultureInfo.InvariantCulture)));
                        }
                    }
                }
            }
        }

        return new RetentionResult(dropped, deletions);
    }

    /// <summary>
    /// The tenant conditions whose retention is shorter than the longest, with their days: each overriding tenant
    /// by name, and every other tenant (the configured default) as "not one of the overriding tenants".
    /// </summary>
    private static IEnumerable<(string Tenants, int Days)> ShorterRetentions(ClickHouseOptions options, int longest)
    {
        foreach (var group in options.TenantSpanRetentionDays.Where(t => t.Value < longest).GroupBy(t => t.Value))
        {
            yield return ($"tenant IN ({ClickHouseSql.List(group.Select(t => t.Key))})", group.Key);
        }

        if (options.SpanRetentionDays < longest)
        {
            yield return ($"tenant NOT IN ({ClickHouseSql.List(options.TenantSpanRetentionDays.Keys)})", options.SpanRetentionDays);
        }
    }
}

public readonly record struct DroppedPartition(Uri Node, string Table, DateOnly Day);

/// <summary>Rows of tenants with a shorter retention deleted from one table on one node.</summary>
public readonly record struct TenantDeletion(Uri Node, string Table, string Tenants, int Days, long Rows);

public sealed record RetentionResult(IReadOnlyList<DroppedPartition> Dropped, IReadOnlyList<TenantDeletion> Deleted);

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
        var result = await ClickHouseRetention.RunAsync(store, options, time.GetUtcNow(), cancellationToken);
        foreach (var partition in result.Dropped)
        {
            logger.LogInformation("Retention dropped {Table} partition {Day} on {Node}", partition.Table, partition.Day, partition.Node);
        }

        foreach (var deletion in result.Deleted)
        {
            logger.LogInformation("Retention deleted {Rows} rows of {Table} older than {Days} days where {Tenants}, on {Node}", deletion.Rows, deletion.Table, deletion.Days, deletion.Tenants, deletion.Node);
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
