using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Embedded.Logs;
using Ariadne.Storage.Memory;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ariadne.Tests.Storage;

/// <summary>
/// The log store contract (<see cref="ILogStore"/>): every engine's log store derives from this class. A trace's
/// records come back with every field, oldest first, after the store is closed and opened again (a durable engine
/// proves they were persisted); tenants never see each other's records.
/// </summary>
public abstract class LogStoreContractTests : IAsyncLifetime
{
    private static readonly TraceId s_trace = TraceId.FromBytes(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray());
    private static readonly Resource s_resource = new() { ServiceName = "orders", Attributes = [new("host.name", AnyValue.FromString("web-1"))] };

    // Recent, so an engine with retention keeps them.
    private static readonly long s_t0 = (DateTimeOffset.UtcNow.AddHours(-1) - DateTimeOffset.UnixEpoch).Ticks * 100;

    protected ILogStore Store { get; private set; } = null!;

    protected string Tenant { get; } = "logs-" + Guid.NewGuid().ToString("N")[..12];

    protected string OtherTenant { get; } = "logs-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A new, empty log store of the engine under test.</summary>
    protected abstract Task<ILogStore> CreateStoreAsync();

    /// <summary>Closes the store and opens its data again; the memory engine returns the same store.</summary>
    protected virtual Task<ILogStore> ReopenAsync(ILogStore store) => Task.FromResult(store);

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public async Task DisposeAsync() => await Store.DisposeAsync();

    [Fact]
    public async Task A_traces_records_come_back_with_every_field_oldest_first()
    {
        var record = Record(s_trace, 10, "order placed");
        record.SeverityText = "Information";
        record.Attributes = [new("order.id", AnyValue.FromInt(42)), new("tags", AnyValue.FromArray([AnyValue.FromString("a"), AnyValue.FromBool(true)]))];
        record.Body = AnyValue.FromKeyValueList([new("msg", AnyValue.FromString("order placed"))]);
        record.EventName = "order.placed";
        record.Flags = 1;
        record.DroppedAttributesCount = 3;
        record.Scope = new InstrumentationScope { Name = "Orders.Api", Version = "2.1" };
        await Store.AppendAsync(Tenant, [record, Record(s_trace, 5, "earlier")], CancellationToken.None);
        await Store.AppendAsync(Tenant, [Record(s_trace, 7, "between")], CancellationToken.None);
        Store = await ReopenAsync(Store);

        var logs = await Store.GetTraceLogsAsync(Tenant, s_trace, CancellationToken.None);

        Assert.Equal(["earlier", "between", "order placed"], logs.Select(l => l.Body.Type == AnyValueType.String ? l.Body.AsString : l.Body.AsKeyValueList[0].Value.AsString));
        var read = logs[2];
        Assert.Equal(record.TimeUnixNano, read.TimeUnixNano);
        Assert.Equal(record.ObservedTimeUnixNano, read.ObservedTimeUnixNano);
        Assert.Equal(9, read.SeverityNumber);
        Assert.Equal("Information", read.SeverityText);
        Assert.Equal(record.SpanId, read.SpanId);
        Assert.Equal(s_trace, read.TraceId);
        Assert.Equal(record.Attributes, read.Attributes);
        Assert.Equal(record.Body, read.Body);
        Assert.Equal("order.placed", read.EventName);
        Assert.Equal(1u, read.Flags);
        Assert.Equal(3u, read.DroppedAttributesCount);
        Assert.Equal("orders", read.ServiceName);
        Assert.Equal(s_resource.Attributes, read.Resource.Attributes);
        Assert.Equal("Orders.Api", read.Scope.Name);
    }

    [Fact]
    public async Task A_tenant_never_sees_another_tenants_records_and_an_unknown_trace_has_none()
    {
        await Store.AppendAsync(Tenant, [Record(s_trace, 1, "mine")], CancellationToken.None);
        await Store.AppendAsync(OtherTenant, [Record(s_trace, 2, "theirs")], CancellationToken.None);
        Store = await ReopenAsync(Store);

        Assert.Equal("mine", Assert.Single(await Store.GetTraceLogsAsync(Tenant, s_trace, CancellationToken.None)).Body.AsString);
        Assert.Equal("theirs", Assert.Single(await Store.GetTraceLogsAsync(OtherTenant, s_trace, CancellationToken.None)).Body.AsString);
        Assert.Empty(await Store.GetTraceLogsAsync(Tenant, new TraceId(0x77, 0x77), CancellationToken.None));
        Assert.Empty(await Store.GetTraceLogsAsync("logs-nobody", s_trace, CancellationToken.None));
    }

    private static LogRecord Record(TraceId traceId, long offset, string body) => new()
    {
        TraceId = traceId,
        SpanId = new SpanId(0x1234),
        TimeUnixNano = s_t0 + offset,
        ObservedTimeUnixNano = s_t0 + offset + 5,
        SeverityNumber = 9,
        Body = AnyValue.FromString(body),
        Resource = s_resource,
    };
}

public sealed class MemoryLogStoreContractTests : LogStoreContractTests
{
    protected override Task<ILogStore> CreateStoreAsync() => Task.FromResult<ILogStore>(new MemoryLogStore(maxRecords: 1000));
}

public sealed class EmbeddedLogStoreContractTests : LogStoreContractTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ariadne-logs-contract-").FullName;

    protected override Task<ILogStore> CreateStoreAsync() => Task.FromResult<ILogStore>(
        EmbeddedLogStore.Open(_directory, new EmbeddedStorageOptions(), segmentBytes: 1 << 20, TimeProvider.System, NullLogger.Instance));

    protected override async Task<ILogStore> ReopenAsync(ILogStore store)
    {
        await store.DisposeAsync();
        return await CreateStoreAsync();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
