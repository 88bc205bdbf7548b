using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.ClickHouse;
using Ariadne.Storage.Memory;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Storage.ClickHouse;

/// <summary>The engine against a real single-node ClickHouse, with the memory engine as the oracle for queries.</summary>
public sealed class ClickHouseSpanStoreTests(ClickHouseFixture fixture) : IClassFixture<ClickHouseFixture>
{
    private static readonly DateTimeOffset s_start = DateTimeOffset.UtcNow.AddHours(-2);

    [Fact]
    public async Task Trace_by_id_returns_every_field_as_appended()
    {
        await using var store = await OpenAsync();
        var trace = TraceData.Checkout(1, s_start, fail: true);
        await store.AppendAsync("acme", trace, default);

        var read = await store.GetTraceAsync("acme", trace[0].TraceId, default);

        Assert.Equal(TraceData.Describe(trace), TraceData.Describe(read));
    }

    [Fact]
    public async Task Unknown_trace_and_other_tenant_read_as_empty()
    {
        await using var store = await OpenAsync();
        var trace = TraceData.Checkout(2, s_start);
        await store.AppendAsync("acme", trace, default);

        Assert.Empty(await store.GetTraceAsync("acme", new TraceId(1, 2), default));
        Assert.Empty(await store.GetTraceAsync("globex", trace[0].TraceId, default));
        Assert.Empty(await store.GetServicesAsync("globex", default));
        Assert.Empty(await store.FindTracesAsync("globex", new TraceQuery { ServiceName = "gateway" }, default));
    }

    [Fact]
    public async Task A_span_appended_twice_is_read_once()
    {
        await using var store = await OpenAsync();
        var trace = TraceData.Checkout(3, s_start);
        await store.AppendAsync("acme", trace, default);
        await store.AppendAsync("acme", trace[..2], default);

        Assert.Equal(4, (await store.GetTraceAsync("acme", trace[0].TraceId, default)).Count);
    }

    [Fact]
    public async Task Concurrent_appends_are_all_stored()
    {
        await using var store = await OpenAsync();
        var traces = Enumerable.Range(0, 40).Select(i => TraceData.Checkout(i, s_start.AddSeconds(i))).ToList();

        await Task.WhenAll(traces.Select(t => store.AppendAsync("acme", t, default).AsTask()));

        var found = await store.FindTracesAsync("acme", new TraceQuery { ServiceName = "payments", Limit = 100 }, default);
        Assert.Equal(40, found.Count);
        Assert.All(found, t => Assert.Equal(4, t.Count));
    }

    [Fact]
    public async Task Queries_answer_as_the_memory_engine_does()
    {
        await using var store = await OpenAsync();
        await AssertSameAnswersAsMemoryAsync(store);
    }

    /// <summary>Loads the same traces into the store and the memory engine and compares every query's answer.</summary>
    internal static async Task AssertSameAnswersAsMemoryAsync(ISpanStore store)
    {
        var memory = new MemorySpanStore(10_000);
        for (var i = 0; i < 24; i++)
        {
            var trace = TraceData.Checkout(i, s_start.AddMinutes(i), fail: i % 5 == 0);
            var tenant = i % 4 == 3 ? "globex" : "acme";
            await store.AppendAsync(tenant, trace, default);
            await memory.AppendAsync(tenant, trace, default);
        }

        foreach (var tenant in new[] { "acme", "globex", "nobody" })
        {
            Assert.Equal(await memory.GetServicesAsync(tenant, default), await store.GetServicesAsync(tenant, default));
            foreach (var service in new[] { "gateway", "orders", "payments", "missing" })
            {
                Assert.Equal(await memory.GetOperationsAsync(tenant, service, null, default), await store.GetOperationsAsync(tenant, service, null, default));
                Assert.Equal(await memory.GetOperationsAsync(tenant, service, SpanKind.Server, default), await store.GetOperationsAsync(tenant, service, SpanKind.Server, default));
            }

            Assert.Equal(
                await memory.GetDependenciesAsync(tenant, DateTimeOffset.UtcNow, TimeSpan.FromHours(3), default),
                await store.GetDependenciesAsync(tenant, DateTimeOffset.UtcNow, TimeSpan.FromHours(3), default));
            Assert.Equal(
                await memory.GetDependenciesAsync(tenant, s_start.AddMinutes(10), TimeSpan.FromMinutes(5), default),
                await store.GetDependenciesAsync(tenant, s_start.AddMinutes(10), TimeSpan.FromMinutes(5), default));
        }

        TraceQuery[] queries =
        [
            new() { ServiceName = "gateway", Limit = 100 },
            new() { ServiceName = "gateway", Limit = 3 },
            new() { ServiceName = "orders", OperationName = "orders.Create" },
            new() { OperationName = "payments.Charge", Limit = 50 },
            new() { Tags = new Dictionary<string, string> { ["error"] = "true" }, Limit = 50 },
            new() { Tags = new Dictionary<string, string> { ["order.id"] = "ord-00006" } },
            new() { Tags = new Dictionary<string, string> { ["user.id"] = "4207" } },
            new() { Tags = new Dictionary<string, string> { ["customer.tier"] = "gold" }, Limit = 50 },
            new() { Tags = new Dictionary<string, string> { ["session.id"] = "s-9", ["rpc.system"] = "grpc" } },
            new() { Tags = new Dictionary<string, string> { ["session.id"] = "s-9", ["http.method"] = "POST" } },
            new() { Tags = new Dictionary<string, string> { ["reason"] = "timeout" }, Limit = 50 },
            new() { Tags = new Dictionary<string, string> { ["exception.type"] = "CardDeclined" }, Limit = 50 },
            new() { Tags = new Dictionary<string, string> { ["service.name"] = "orders" }, Limit = 50 },
            new() { Tags = new Dictionary<string, string> { ["span.kind"] = "client" }, Limit = 50 },
            new() { Tags = new Dictionary<string, string> { ["otel.status_code"] = "ERROR" }, Limit = 50 },
            new() { Tags = new Dictionary<string, string> { ["otel.status_description"] = "payment declined" }, Limit = 50 },
            new() { Tags = new Dictionary<string, string> { ["quote"] = "it's a \\ \"test\"\t\n" }, Limit = 50 },
            new() { Tags = new Dictionary<string, string> { ["tags"] = "[\"a\",7,false]" }, Limit = 50 },
            new() { Tags = new Dictionary<string, string> { ["http.status_code"] = "500", ["cart.value"] = "24.25" } },
            new() { ServiceName = "payments", MinDuration = TimeSpan.FromMilliseconds(50), Limit = 50 },
            new() { ServiceName = "gateway", MaxDuration = TimeSpan.FromMilliseconds(125), Limit = 50 },
            new() { ServiceName = "gateway", StartTimeMin = s_start.AddMinutes(5), StartTimeMax = s_start.AddMinutes(12), Limit = 50 },
            new() { ServiceName = "payments", StartTimeMin = s_start, StartTimeMax = s_start.AddMinutes(30), Limit = 3 },
            new() { Tags = new Dictionary<string, string> { ["error"] = "true" }, StartTimeMin = s_start.AddMinutes(-5), StartTimeMax = s_start.AddHours(1), Limit = 2 },
            new() { Tags = new Dictionary<string, string> { ["error"] = "false" }, StartTimeMin = s_start, StartTimeMax = s_start.AddMinutes(23), Limit = 7 },
            new() { ServiceName = "gateway", Tags = new Dictionary<string, string> { ["order.id"] = "ord-00006", ["error"] = "true" } },
        ];
        var compared = 0;
        foreach (var query in queries)
        {
            foreach (var tenant in new[] { "acme", "globex" })
            {
                var expected = (await memory.FindTracesAsync(tenant, query, default)).Select(t => TraceData.Describe(t).ToList()).ToList();
                var actual = (await store.FindTracesAsync(tenant, query, default)).Select(t => TraceData.Describe(t).ToList()).ToList();
                Assert.True(expected.Count == actual.Count, $"{tenant} {Show(query)}: expected {expected.Count} traces, got {actual.Count}");
                for (var i = 0; i < expected.Count; i++)
                {
                    Assert.Equal(expected[i], actual[i]);
                }

                compared += expected.Count;
            }
        }

        Assert.True(compared > 100, $"the queries matched only {compared} traces; the data no longer exercises them");
    }

    private static string Show(TraceQuery q) =>
        $"service={q.ServiceName} op={q.OperationName} tags={string.Join(",", q.Tags.Select(t => t.Key + "=" + t.Value))} min={q.MinDuration} max={q.MaxDuration} limit={q.Limit}";

    private async Task<ClickHouseSpanStore> OpenAsync()
    {
        var store = new ClickHouseSpanStore(new ClickHouseOptions { Url = fixture.Server.Url.ToString(), Database = ClickHouseFixture.NewDatabase() });
        await store.InitializeAsync();
        return store;
    }
}
