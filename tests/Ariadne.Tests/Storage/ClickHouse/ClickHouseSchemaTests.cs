using Ariadne.Storage.ClickHouse;
using Ariadne.Storage.ClickHouse.Minutes;
using Ariadne.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Ariadne.Tests.Storage.ClickHouse;

/// <summary>Migrations and retention against a real ClickHouse.</summary>
public sealed class ClickHouseSchemaTests(ClickHouseFixture fixture) : IClassFixture<ClickHouseFixture>
{
    [Fact]
    public async Task Migrating_an_empty_database_creates_every_table_and_records_each_version()
    {
        var options = Options();
        await using var store = new ClickHouseSpanStore(options);
        await store.InitializeAsync();

        var node = store.Nodes[0];
        var tables = (await node.QueryRowsAsync($"SELECT name FROM system.tables WHERE database = '{options.Database}' ORDER BY name", default)).Select(r => r[0]);
        Assert.Equal(
            ["call_minutes", "edge_minutes", "logs", "operations", "operations_mv", "red_minutes", "schema_migrations", "spans", "trace_index", "trace_index_mv"],
            tables);
        var versions = (await node.QueryRowsAsync($"SELECT version FROM {options.Database}.schema_migrations ORDER BY version", default)).Select(r => int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(ClickHouseMigrations.All.Select(m => m.Version), versions);
    }

    /// <summary>The pre-sampling minutes, written without a log (what the feed sees is what it writes).</summary>
    private static ClickHouseMinuteFeed Feed(ClickHouseSpanStore store) =>
        new(store, "schema-tests", fedFromLog: false, TimeSpan.FromMinutes(10), TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task Migrating_again_applies_nothing()
    {
        var options = Options();
        await using var store = new ClickHouseSpanStore(options);
        await store.InitializeAsync();

        Assert.Equal(0, await ClickHouseMigrations.ApplyAsync(store.Nodes, await store.InitializeAsync(), ClickHouseMigrations.Latest, default));
        Assert.Equal(ClickHouseMigrations.Latest, await ClickHouseMigrations.CurrentVersionAsync(store.Nodes, options.Database, default));
    }

    [Fact]
    public async Task Migrating_from_the_first_version_keeps_spans_and_counts_and_logs_new_ones()
    {
        var options = Options();
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var before = TraceData.Checkout(1, start);
        await using (var old = new ClickHouseSpanStore(options))
        {
            await old.InitializeAsync(1, default);
            await old.AppendAsync("acme", before, default);
            Assert.Equal(1, await ClickHouseMigrations.CurrentVersionAsync(old.Nodes, options.Database, default));
        }

        await using var store = new ClickHouseSpanStore(options);
        await store.InitializeAsync();
        var after = TraceData.Checkout(2, start.AddMinutes(1), fail: true);
        await store.AppendAsync("acme", after, default);

        Assert.Equal(TraceData.Describe(before), TraceData.Describe(await store.GetTraceAsync("acme", before[0].TraceId, default)));
        Assert.Equal(TraceData.Describe(after), TraceData.Describe(await store.GetTraceAsync("acme", after[0].TraceId, default)));
        await using (var feed = Feed(store))
        {
            feed.Observe("acme", after);
            await feed.FlushAsync();
        }

        var red = await store.QueryRowsAsync(
            $"SELECT service, sum(calls), sum(errors) FROM {options.Database}.call_minutes WHERE tenant = 'acme' GROUP BY service ORDER BY service",
            default);
        Assert.Equal([["gateway", "2", "1"], ["orders", "1", "0"], ["payments", "1", "1"]], red);
        var logs = new ClickHouseLogStore(store);
        await logs.AppendAsync("acme", [new Ariadne.Model.LogRecord { TraceId = after[0].TraceId, TimeUnixNano = after[0].StartTimeUnixNano, Body = Ariadne.Model.AnyValue.FromString("migrated"), Resource = after[0].Resource }], default);
        Assert.Equal("migrated", Assert.Single(await logs.GetTraceLogsAsync("acme", after[0].TraceId, default)).Body.AsString);
    }

    [Fact]
    public async Task Retention_drops_day_partitions_past_seven_days_and_aggregates_past_thirty()
    {
        var options = Options();
        await using var store = new ClickHouseSpanStore(options);
        var now = new DateTimeOffset(2030, 3, 20, 12, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(now);
        var old = TraceData.Checkout(1, now.AddDays(-8));
        var recent = TraceData.Checkout(2, now.AddDays(-6));
        var ancient = TraceData.Checkout(3, now.AddDays(-31));
        await store.AppendAsync("acme", [.. old, .. recent, .. ancient], default);
        await using (var feed = Feed(store))
        {
            feed.Observe("acme", [.. old, .. recent, .. ancient]);
            await feed.FlushAsync();
        }

        var maintenance = new ClickHouseMaintenance(store, options, clock, NullLogger<ClickHouseMaintenance>.Instance);

        await maintenance.RunOnceAsync(default);

        Assert.Empty(await store.GetTraceAsync("acme", old[0].TraceId, default));
        Assert.Empty(await store.GetTraceAsync("acme", ancient[0].TraceId, default));
        Assert.Equal(4, (await store.GetTraceAsync("acme", recent[0].TraceId, default)).Count);
        var minutes = await store.QueryRowsAsync($"SELECT toDate(minute) AS day FROM {options.Database}.call_minutes GROUP BY day ORDER BY day", default);
        Assert.Equal([["2030-03-12"], ["2030-03-14"]], minutes);
        Assert.Equal(4, store.GetStats().Spans);
        Assert.True(store.GetStats().Bytes > 0);
    }

    [Fact]
    public async Task Tenants_keep_their_own_retention_shorter_by_deleting_rows_longer_by_keeping_partitions()
    {
        var tenancy = new Ariadne.Tenancy.TenancyOptions
        {
            Tenants =
            [
                new Ariadne.Tenancy.TenantOptions { Id = "brief", DetailedRetention = TimeSpan.FromDays(2) },
                new Ariadne.Tenancy.TenantOptions { Id = "archive", DetailedRetention = TimeSpan.FromDays(10) },
            ],
        };
        var options = Options().WithTenantRetention(tenancy);
        await using var store = new ClickHouseSpanStore(options);
        var now = new DateTimeOffset(2030, 3, 20, 12, 0, 0, TimeSpan.Zero);
        var briefOld = TraceData.Checkout(11, now.AddDays(-3));
        var briefNew = TraceData.Checkout(12, now.AddHours(-30));
        var archiveOld = TraceData.Checkout(13, now.AddDays(-9));
        var defaultOld = TraceData.Checkout(14, now.AddDays(-8));
        var defaultNew = TraceData.Checkout(15, now.AddDays(-6));
        await store.AppendAsync("brief", [.. briefOld, .. briefNew], default);
        await store.AppendAsync("archive", archiveOld, default);
        await store.AppendAsync("acme", [.. defaultOld, .. defaultNew], default);

        await new ClickHouseMaintenance(store, options, new FakeTimeProvider(now), NullLogger<ClickHouseMaintenance>.Instance).RunOnceAsync(default);

        // Deletes are mutations, which ClickHouse applies in the background.
        await Poll.UntilAsync(async () => (await store.GetTraceAsync("brief", briefOld[0].TraceId, default)).Count == 0, "brief's 3-day-old trace to be deleted");
        await Poll.UntilAsync(async () => (await store.GetTraceAsync("acme", defaultOld[0].TraceId, default)).Count == 0, "the default tenant's 8-day-old trace to be deleted");
        Assert.Equal(4, (await store.GetTraceAsync("brief", briefNew[0].TraceId, default)).Count);
        Assert.Equal(4, (await store.GetTraceAsync("archive", archiveOld[0].TraceId, default)).Count);
        Assert.Equal(4, (await store.GetTraceAsync("acme", defaultNew[0].TraceId, default)).Count);
        Assert.Equal(["gateway", "orders", "payments"], await store.GetServicesAsync("archive", default));
    }

    [Fact]
    public async Task Log_records_are_stored_by_trace_per_tenant_and_dropped_with_the_spans()
    {
        var options = Options();
        await using var store = new ClickHouseSpanStore(options);
        var logs = new ClickHouseLogStore(store);
        var now = new DateTimeOffset(2030, 3, 20, 12, 0, 0, TimeSpan.Zero);
        var trace = new Ariadne.Model.TraceId(0x51, 1);
        var old = new Ariadne.Model.TraceId(0x51, 2);
        var resource = new Ariadne.Model.Resource { ServiceName = "orders" };
        Ariadne.Model.LogRecord Record(Ariadne.Model.TraceId id, DateTimeOffset time, string body) => new()
        {
            TraceId = id, SpanId = new Ariadne.Model.SpanId(7), TimeUnixNano = (time - DateTimeOffset.UnixEpoch).Ticks * 100, SeverityNumber = 9,
            Body = Ariadne.Model.AnyValue.FromString(body), Resource = resource,
            Attributes = [new("order.id", Ariadne.Model.AnyValue.FromInt(42))],
        };

        await logs.AppendAsync("acme", [Record(trace, now.AddMinutes(-1), "paid"), Record(old, now.AddDays(-9), "ancient")], default);
        await logs.AppendAsync("acme", [Record(trace, now.AddMinutes(-2), "order placed")], default);
        await logs.AppendAsync("other", [Record(trace, now, "other tenant")], default);

        var read = await logs.GetTraceLogsAsync("acme", trace, default);
        Assert.Equal(["order placed", "paid"], read.Select(r => r.Body.AsString));
        Assert.Equal("orders", read[0].ServiceName);
        Assert.Equal(42, read[0].Attributes.Single().Value.AsInt);
        Assert.Equal("other tenant", Assert.Single(await logs.GetTraceLogsAsync("other", trace, default)).Body.AsString);
        Assert.Empty(await logs.GetTraceLogsAsync("nobody", trace, default));

        await new ClickHouseMaintenance(store, options, new FakeTimeProvider(now), NullLogger<ClickHouseMaintenance>.Instance).RunOnceAsync(default);
        Assert.Empty(await logs.GetTraceLogsAsync("acme", old, default));
        Assert.Equal(2, (await logs.GetTraceLogsAsync("acme", trace, default)).Count);
    }

    private ClickHouseOptions Options() => new() { Url = fixture.Server.Url.ToString(), Database = ClickHouseFixture.NewDatabase() };
}

/// <summary>`ariadne storage clickhouse ...` against a real server.</summary>
public sealed class ClickHouseStorageCommandTests(ClickHouseFixture fixture) : IClassFixture<ClickHouseFixture>
{
    [Fact]
    public async Task Storage_clickhouse_retention_drops_old_days_and_stats_reads_every_table()
    {
        var database = ClickHouseFixture.NewDatabase();
        var config = Path.Combine(Directory.CreateTempSubdirectory("ariadne-cli-").FullName, "ariadne.json");
        await File.WriteAllTextAsync(config, $$"""{ "ClickHouse": { "Database": "{{database}}" } }""");
        await using (var store = new ClickHouseSpanStore(new ClickHouseOptions { Url = fixture.Server.Url.ToString(), Database = database }))
        {
            await store.AppendAsync("acme", [.. TraceData.Checkout(1, DateTimeOffset.UtcNow.AddDays(-9)), .. TraceData.Checkout(2, DateTimeOffset.UtcNow.AddMinutes(-5))], default);
        }

        var root = new System.CommandLine.RootCommand { Cli.StorageCommand.Create() };
        var url = fixture.Server.Url.ToString();

        Assert.Equal(0, await root.Parse(["storage", "clickhouse", "retention", "--config", config, "--clickhouse-url", url]).InvokeAsync());
        Assert.Equal(0, await root.Parse(["storage", "clickhouse", "stats", "--config", config, "--clickhouse-url", url]).InvokeAsync());
        Assert.Equal(1, await root.Parse(["storage", "clickhouse", "stats", "--config", config, "--clickhouse-url", "http://127.0.0.1:9"]).InvokeAsync());

        await using var check = new ClickHouseSpanStore(new ClickHouseOptions { Url = url, Database = database });
        var days = await check.QueryRowsAsync($"SELECT count(DISTINCT toDate(toDateTime(intDiv(start_ns, 1000000000)))) FROM {database}.spans", default);
        Assert.Equal("1", days[0][0]);
    }
}
