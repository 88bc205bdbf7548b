using System.CommandLine;
using System.Globalization;
using Ariadne.Configuration;
using Ariadne.Storage.ClickHouse;
using Spectre.Console;

namespace Ariadne.Cli;

/// <summary>`ariadne storage clickhouse stats|retention`: the ClickHouse engine's tables, and retention run now.</summary>
internal static class ClickHouseStorageCommand
{
    public static Command Create()
    {
        var command = new Command("clickhouse", "Inspect and maintain the ClickHouse engine's database (every node of a cluster).");
        command.Subcommands.Add(Sub("stats", "Rows, bytes and days of every table on every node, with the server and schema versions.", StatsAsync));
        command.Subcommands.Add(Sub("retention", "Drop the day partitions past retention now, on every node (the server does this on its own every ClickHouse:MaintenanceInterval).", RetentionAsync));
        return command;
    }

    private static Command Sub(string name, string description, Func<ClickHouseSpanStore, ClickHouseOptions, CancellationToken, Task<int>> run)
    {
        var config = new Option<string?>("--config", "-c") { Description = "JSON config file, for the ClickHouse:* settings." };
        var url = new Option<string?>("--clickhouse-url") { Description = "ClickHouse HTTP interface; with a cluster, every node, comma-separated [default: ClickHouse:Url]." };
        var cluster = new Option<string?>("--clickhouse-cluster") { Description = "Cluster name from remote_servers [default: ClickHouse:Cluster]." };
        var command = new Command(name, description);
        command.Options.Add(config);
        command.Options.Add(url);
        command.Options.Add(cluster);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?> { ["Storage"] = "clickhouse" };
            if (parse.GetValue(url) is { } u)
            {
                overrides["ClickHouse:Url"] = u;
            }

            if (parse.GetValue(cluster) is { } c)
            {
                overrides["ClickHouse:Cluster"] = c;
            }

            if (await CliConfiguration.TryLoadAsync(parse.GetValue(config), overrides) is not { } options)
            {
                return CliConfiguration.InvalidConfigurationExitCode;
            }

            await using var store = new ClickHouseSpanStore(options.ClickHouse);
            try
            {
                return await run(store, options.ClickHouse.WithTenantRetention(options.Tenancy), cancellationToken);
            }
            catch (ClickHouseException e)
            {
                await Console.Error.WriteLineAsync($"ariadne: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> StatsAsync(ClickHouseSpanStore store, ClickHouseOptions options, CancellationToken cancellationToken)
    {
        var schema = await store.InitializeAsync(cancellationToken);
        var table = new Table().AddColumns("node", "table", "first day", "last day", "rows", "bytes", "B/row");
        foreach (var node in store.Nodes)
        {
            var rows = await node.QueryRowsAsync(
                "SELECT table, min(partition), max(partition), sum(rows), sum(bytes_on_disk) FROM system.parts " +
                $"WHERE active AND database = {ClickHouseSql.Quote(schema.Database)} GROUP BY table ORDER BY table",
                cancellationToken);
            foreach (var row in rows)
            {
                var count = long.Parse(row[3], CultureInfo.InvariantCulture);
                var bytes = long.Parse(row[4], CultureInfo.InvariantCulture);
                table.AddRow(Markup.Escape(node.BaseUri.ToString()), Markup.Escape(row[0]), Markup.Escape(row[1]), Markup.Escape(row[2]),
                    count.ToString("N0", CultureInfo.InvariantCulture), bytes.ToString("N0", CultureInfo.InvariantCulture),
                    count == 0 ? "-" : ((double)bytes / count).ToString("F1", CultureInfo.InvariantCulture));
            }
        }

        AnsiConsole.Write(table);
        var stats = await store.RefreshStatsAsync(cancellationToken);
        var version = await ClickHouseMigrations.CurrentVersionAsync(store.Nodes, schema.Database, cancellationToken);
        AnsiConsole.WriteLine(
            $"ClickHouse {schema.Version}, database {schema.Database}{(schema.IsCluster ? ", cluster " + schema.Cluster : string.Empty)}, schema version {version}; " +
            $"{stats.Spans:N0} spans, ~{stats.Traces:N0} traces, {stats.Bytes:N0} bytes; retention {options.SpanRetentionDays} days (spans), {options.AggregateRetentionDays} days (aggregates).");
        return 0;
    }

    private static async Task<int> RetentionAsync(ClickHouseSpanStore store, ClickHouseOptions options, CancellationToken cancellationToken)
    {
        var result = await ClickHouseRetention.RunAsync(store, options, DateTimeOffset.UtcNow, cancellationToken);
        foreach (var partition in result.Dropped)
        {
            AnsiConsole.WriteLine($"dropped {partition.Table} {partition.Day:yyyy-MM-dd} on {partition.Node}");
        }

        foreach (var deletion in result.Deleted)
        {
            AnsiConsole.WriteLine($"deleting {deletion.Rows:N0} rows of {deletion.Table} older than {deletion.Days} days where {deletion.Tenants}, on {deletion.Node}");
        }

        AnsiConsole.WriteLine($"{result.Dropped.Count} day partitions dropped, {result.Deleted.Count} tenant deletions started; spans keep {options.SpanRetentionDays} days" +
            $"{(options.TenantSpanRetentionDays.Count > 0 ? $" ({options.TenantSpanRetentionDays.Count} tenants their own)" : string.Empty)}, aggregates {options.AggregateRetentionDays}.");
        return 0;
    }
}
