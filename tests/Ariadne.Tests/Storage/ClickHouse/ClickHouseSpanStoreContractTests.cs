using Ariadne.Storage;
using Ariadne.Storage.ClickHouse;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Storage.ClickHouse;

/// <summary>The storage contract against one real clickhouse-server; each test has its own tenants in a shared database.</summary>
public sealed class ClickHouseSpanStoreContractTests(ClickHouseFixture fixture) : SpanStoreContractTests, IClassFixture<ClickHouseFixture>
{
    private readonly string _database = ClickHouseFixture.NewDatabase();

    protected override async Task<ISpanStore> CreateStoreAsync()
    {
        var store = new ClickHouseSpanStore(new ClickHouseOptions { Url = fixture.Server.Url.ToString(), Database = _database });
        await store.InitializeAsync();
        return store;
    }

    /// <summary>Closes the store and reads through a new one, so answers come from ClickHouse, not from the process.</summary>
    protected override async Task<ISpanStore> ReopenAsync(ISpanStore store)
    {
        await store.DisposeAsync();
        return await CreateStoreAsync();
    }
}

/// <summary>The storage contract against a cluster of two real clickhouse-servers, through Distributed tables.</summary>
public sealed class ClickHouseClusterSpanStoreContractTests(ClickHouseClusterFixture fixture) : SpanStoreContractTests, IClassFixture<ClickHouseClusterFixture>
{
    private readonly string _database = ClickHouseFixture.NewDatabase();

    protected override async Task<ISpanStore> CreateStoreAsync()
    {
        var store = new ClickHouseSpanStore(new ClickHouseOptions { Url = fixture.Url, Cluster = ClickHouseClusterFixture.Cluster, Database = _database });
        await store.InitializeAsync();
        return store;
    }

    protected override async Task<ISpanStore> ReopenAsync(ISpanStore store)
    {
        await store.DisposeAsync();
        return await CreateStoreAsync();
    }
}

/// <summary>The log store contract on one real clickhouse-server.</summary>
public sealed class ClickHouseLogStoreContractTests(ClickHouseFixture fixture) : LogStoreContractTests, IClassFixture<ClickHouseFixture>
{
    private readonly string _database = ClickHouseFixture.NewDatabase();

    protected override async Task<ILogStore> CreateStoreAsync()
    {
        var store = new ClickHouseSpanStore(new ClickHouseOptions { Url = fixture.Server.Url.ToString(), Database = _database });
        await store.InitializeAsync();
        return new Owning(store);
    }

    protected override async Task<ILogStore> ReopenAsync(ILogStore store)
    {
        await store.DisposeAsync();
        return await CreateStoreAsync();
    }

    /// <summary>The log store with the span store that owns its connections, closed together.</summary>
    private sealed class Owning(ClickHouseSpanStore store) : ILogStore
    {
        private readonly ClickHouseLogStore _logs = new(store);

        public ValueTask AppendAsync(string tenant, IReadOnlyList<Ariadne.Model.LogRecord> records, CancellationToken cancellationToken) => _logs.AppendAsync(tenant, records, cancellationToken);

        public ValueTask<IReadOnlyList<Ariadne.Model.LogRecord>> GetTraceLogsAsync(string tenant, Ariadne.Model.TraceId traceId, CancellationToken cancellationToken) =>
            _logs.GetTraceLogsAsync(tenant, traceId, cancellationToken);

        public ValueTask DisposeAsync() => store.DisposeAsync();
    }
}
