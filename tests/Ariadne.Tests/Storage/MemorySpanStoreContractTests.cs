using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.Memory;
using static Ariadne.Tests.Infrastructure.TestSpans;

namespace Ariadne.Tests.Storage;

public sealed class MemorySpanStoreContractTests : SpanStoreContractTests
{
    private static readonly DateTimeOffset s_start = DateTimeOffset.UtcNow.AddMinutes(-30);

    protected override Task<ISpanStore> CreateStoreAsync() => Task.FromResult<ISpanStore>(new MemorySpanStore(100_000));

    [Fact]
    public async Task Oldest_trace_is_evicted_beyond_max_traces()
    {
        await using var store = new MemorySpanStore(3);
        var ids = Enumerable.Range(0, 5).Select(_ => NewTraceId()).ToArray();
        for (var i = 0; i < ids.Length; i++)
        {
            await store.AppendAsync(Tenant, [Create(Resource("svc-" + i), ids[i], 1, "op", s_start.AddSeconds(i), TimeSpan.FromMilliseconds(1))], default);
        }

        Assert.Empty(await store.GetTraceAsync(Tenant, ids[0], default));
        Assert.Empty(await store.GetTraceAsync(Tenant, ids[1], default));
        Assert.Equal([ids[4], ids[3], ids[2]], Ids(await store.FindTracesAsync(Tenant, new TraceQuery(), default)));
        Assert.Equal(new StorageStats(3, 3, 0), store.GetStats());
    }

    [Fact]
    public async Task Eviction_is_by_first_arrival_and_late_spans_do_not_renew_a_trace()
    {
        await using var store = new MemorySpanStore(2);
        var (a, b, c) = (NewTraceId(), NewTraceId(), NewTraceId());
        var svc = Resource("svc");
        await store.AppendAsync(Tenant, [Create(svc, a, 1, "op", s_start, TimeSpan.FromMilliseconds(1))], default);
        await store.AppendAsync(Tenant, [Create(svc, b, 1, "op", s_start, TimeSpan.FromMilliseconds(1))], default);
        await store.AppendAsync(Tenant, [Create(svc, a, 2, "late", s_start, TimeSpan.FromMilliseconds(1), parentSpanId: 1)], default);
        await store.AppendAsync(Tenant, [Create(svc, c, 1, "op", s_start, TimeSpan.FromMilliseconds(1))], default);

        Assert.Empty(await store.GetTraceAsync(Tenant, a, default));
        Assert.Single(await store.GetTraceAsync(Tenant, b, default));
        Assert.Single(await store.GetTraceAsync(Tenant, c, default));
        Assert.Equal(new StorageStats(2, 2, 0), store.GetStats());
    }

    [Fact]
    public async Task One_batch_larger_than_max_traces_keeps_the_newest_traces()
    {
        await using var store = new MemorySpanStore(2);
        var ids = Enumerable.Range(0, 4).Select(_ => NewTraceId()).ToArray();
        await store.AppendAsync(Tenant, [.. ids.Select((id, i) => Create(Resource("svc"), id, 1, "op", s_start.AddSeconds(i), TimeSpan.FromMilliseconds(1)))], default);

        Assert.Equal([ids[3], ids[2]], Ids(await store.FindTracesAsync(Tenant, new TraceQuery(), default)));
    }

    [Fact]
    public async Task Max_traces_applies_to_each_tenant_separately()
    {
        await using var store = new MemorySpanStore(1);
        var (a, b) = (NewTraceId(), NewTraceId());
        await store.AppendAsync(Tenant, [Create(Resource("svc"), a, 1, "op", s_start, TimeSpan.FromMilliseconds(1))], default);
        await store.AppendAsync(OtherTenant, [Create(Resource("svc"), b, 1, "op", s_start, TimeSpan.FromMilliseconds(1))], default);

        Assert.Single(await store.GetTraceAsync(Tenant, a, default));
        Assert.Single(await store.GetTraceAsync(OtherTenant, b, default));
    }
}
