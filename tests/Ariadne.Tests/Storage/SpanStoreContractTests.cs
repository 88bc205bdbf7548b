using Ariadne.Model;
using Ariadne.Storage;
using static Ariadne.Tests.Infrastructure.TestSpans;

namespace Ariadne.Tests.Storage;

/// <summary>
/// The storage contract: every engine derives from this class and must pass all of it. It is the specification
/// of <see cref="ISpanStore"/>; where the interface's comments are short, these tests say exactly what is meant.
/// <list type="bullet">
/// <item>A trace is every span ever appended with its id, whatever the batch; spans come back with every field intact
/// (attribute, event and link order may differ).</item>
/// <item>Search (Jaeger's semantics): a trace matches when ONE of its spans satisfies every condition at once:
/// service, operation, each tag, duration in [min, max] and start time in [StartTimeMin, StartTimeMax], all bounds
/// inclusive. The service is optional. Tags match the text form of span, scope, resource, event and link attributes;
/// <c>resource.</c>-prefixed keys match resource attributes only; <c>error</c>, <c>span.kind</c>, <c>span.status</c>,
/// <c>otel.status_code</c>, <c>otel.status_description</c>, <c>otel.scope.name</c>/<c>scope.name</c> and
/// <c>otel.scope.version</c>/<c>scope.version</c> match the fields Jaeger derives those tags from. Results are whole
/// traces, most recent (latest first span start) first, at most <see cref="TraceQuery.Limit"/>.</item>
/// <item>Dependencies: one call per (parent span, child span) pair whose services differ and whose child span starts
/// inside [end - lookback, end]; the error count is the number of those child spans with error status.</item>
/// <item>Every call is scoped to a tenant; a tenant never sees another tenant's spans, services or edges.</item>
/// </list>
/// Each test runs on a fresh store from <see cref="CreateStoreAsync"/>, under a tenant name of its own (so engines
/// that share one backend across tests still see clean data), and calls <see cref="ReopenAsync"/> between writing and
/// reading, so engines with durable storage prove that what they return was really persisted.
/// </summary>
public abstract partial class SpanStoreContractTests : IAsyncLifetime
{
    // Recent enough that an engine with retention keeps it, whole seconds so every engine's precision can hold it.
    private static readonly DateTimeOffset s_t0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600);

    private readonly CancellationToken _ct = CancellationToken.None;

    protected ISpanStore Store { get; private set; } = null!;

    protected string Tenant { get; } = "contract-" + Guid.NewGuid().ToString("N")[..12];

    protected string OtherTenant { get; } = "contract-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A new, empty store of the engine under test.</summary>
    protected abstract Task<ISpanStore> CreateStoreAsync();

    /// <summary>
    /// Makes everything appended so far durable and returns the store to read from: a durable engine flushes, closes
    /// and opens its data again; the memory engine returns the same store.
    /// </summary>
    protected virtual Task<ISpanStore> ReopenAsync(ISpanStore store) => Task.FromResult(store);

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public async Task DisposeAsync() => await Store.DisposeAsync();

    [Fact]
    public async Task Trace_by_id_returns_every_span_appended_across_batches()
    {
        var shop = new ShopTraces();
        foreach (var span in shop.Checkout)
        {
            await Store.AppendAsync(Tenant, [span], _ct);
        }

        await ReopenAsync();

        var trace = await Store.GetTraceAsync(Tenant, shop.CheckoutId, _ct);
        AssertSameSpans(shop.Checkout, trace);
    }

    [Fact]
    public async Task Trace_by_id_of_an_unknown_trace_is_empty()
    {
        var shop = await AppendShopAsync();

        Assert.Empty(await Store.GetTraceAsync(Tenant, NewTraceId(), _ct));
        Assert.Empty(await Store.GetTraceAsync(Tenant, new TraceId(shop.CheckoutId.High ^ 1, shop.CheckoutId.Low), _ct));
        Assert.Empty(await Store.GetTraceAsync(Tenant, new TraceId(0, shop.CheckoutId.Low), _ct));
    }

    [Fact]
    public async Task Trace_by_id_keeps_every_field_of_every_span()
    {
        var traceId = NewTraceId();
        var resource = new Resource
        {
            ServiceName = "inventory",
            Attributes =
            [
                KeyValue.String("service.name", "inventory"),
                KeyValue.String("host.name", "inv-7"),
                KeyValue.Int("process.pid", 4242),
                new("host.ip", AnyValue.FromArray([AnyValue.FromString("10.0.0.7"), AnyValue.FromString("fe80::1")])),
            ],
            DroppedAttributesCount = 2,
        };
        var scope = new InstrumentationScope
        {
            Name = "Ariadne.Inventory",
            Version = "1.4.2",
            Attributes = [KeyValue.String("scope.kind", "manual")],
        };
        var span = Create(
            resource,
            traceId,
            0x00f067aa0ba902b7,
            "ReserveStock",
            s_t0.AddTicks(1234567),
            TimeSpan.FromTicks(98765432),
            SpanKind.Server,
            parentSpanId: 0x53995c3f42cd8ad8,
            status: StatusCode.Error,
            statusMessage: "out of stock",
            attributes:
            [
                KeyValue.String("sku", "SKU-1"),
                KeyValue.Int("quantity", -3),
                KeyValue.Int("big", long.MaxValue),
                KeyValue.Double("price", 19.99),
                KeyValue.Bool("backorder", true),
                new("blob", AnyValue.FromBytes([0, 1, 2, 250, 255])),
                new("tags", AnyValue.FromArray([AnyValue.FromString("a"), AnyValue.FromInt(2), AnyValue.FromBool(false)])),
                new("nested", AnyValue.FromKeyValueList([KeyValue.String("k", "v"), new("inner", AnyValue.FromArray([AnyValue.FromDouble(1.5)]))])),
                new("empty", AnyValue.Empty),
                KeyValue.String("unicode", "Grüße, 世界 \"quoted\" \\ <tag> & \u2028"),
            ],
            events:
            [
                new SpanEvent(Nanos(s_t0) + 5_000_123, "stock.checked", [KeyValue.Int("remaining", 0)], 1),
                new SpanEvent(Nanos(s_t0) + 6_000_000, "exception", [KeyValue.String("exception.type", "OutOfStock"), KeyValue.String("exception.message", "none left")]),
            ],
            links:
            [
                new SpanLink(NewTraceId(), new SpanId(0x1111111111111111), "vendor=1", [KeyValue.String("link.kind", "batch")], 1),
            ],
            scope: scope);
        span.TraceState = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
        span.Flags = 0x301;
        span.DroppedAttributesCount = 4;
        span.DroppedEventsCount = 5;
        span.DroppedLinksCount = 6;

        await Store.AppendAsync(Tenant, [span], _ct);
        await ReopenAsync();

        var stored = Assert.Single(await Store.GetTraceAsync(Tenant, traceId, _ct));
        AssertSameSpan(span, stored);
    }

    [Fact]
    public async Task Services_are_distinct_and_sorted_ordinally()
    {
        var shop = new ShopTraces();
        await Store.AppendAsync(Tenant, [.. shop.Checkout, .. shop.Browse], _ct);
        await Store.AppendAsync(Tenant, [.. shop.SlowOrder, .. shop.Lowercase], _ct);
        await ReopenAsync();

        Assert.Equal(["Zeta", "catalog", "gateway", "orders", "payments"], await Store.GetServicesAsync(Tenant, _ct));
    }

    [Fact]
    public async Task Operations_are_distinct_sorted_by_name_then_kind_and_filtered_by_kind()
    {
        await AppendShopAsync();

        Assert.Equal(
            [new OperationInfo("Charge", SpanKind.Client), new OperationInfo("POST /orders", SpanKind.Server)],
            await Store.GetOperationsAsync(Tenant, "orders", null, _ct));
        Assert.Equal(
            [new OperationInfo("GET /catalog", SpanKind.Server), new OperationInfo("GET /checkout", SpanKind.Server), new OperationInfo("POST /orders", SpanKind.Client)],
            await Store.GetOperationsAsync(Tenant, "gateway", null, _ct));
        Assert.Equal([new OperationInfo("POST /orders", SpanKind.Client)], await Store.GetOperationsAsync(Tenant, "gateway", SpanKind.Client, _ct));
        Assert.Equal([new OperationInfo("db.query", SpanKind.Unspecified)], await Store.GetOperationsAsync(Tenant, "payments", SpanKind.Unspecified, _ct));
        Assert.Empty(await Store.GetOperationsAsync(Tenant, "payments", SpanKind.Producer, _ct));
        Assert.Empty(await Store.GetOperationsAsync(Tenant, "nobody", null, _ct));
    }

    [Fact]
    public async Task Operation_with_two_kinds_is_listed_once_per_kind()
    {
        var traceId = NewTraceId();
        var svc = Resource("mailer");
        await Store.AppendAsync(Tenant,
        [
            Create(svc, traceId, 1, "send", s_t0, TimeSpan.FromMilliseconds(5), SpanKind.Producer),
            Create(svc, traceId, 2, "send", s_t0, TimeSpan.FromMilliseconds(5), SpanKind.Consumer, parentSpanId: 1),
            Create(svc, traceId, 3, "send", s_t0, TimeSpan.FromMilliseconds(5), SpanKind.Consumer, parentSpanId: 1),
        ], _ct);
        await ReopenAsync();

        Assert.Equal(
            [new OperationInfo("send", SpanKind.Producer), new OperationInfo("send", SpanKind.Consumer)],
            await Store.GetOperationsAsync(Tenant, "mailer", null, _ct));
    }

    [Fact]
    public async Task Search_by_service_returns_whole_traces_most_recent_first()
    {
        var shop = await AppendShopAsync();

        var payments = await FindAsync(new TraceQuery { ServiceName = "payments" });
        AssertSameSpans(shop.Checkout, Assert.Single(payments));

        Assert.Equal([shop.SlowOrderId, shop.CheckoutId], Ids(await FindAsync(new TraceQuery { ServiceName = "orders" })));
        Assert.Empty(await FindAsync(new TraceQuery { ServiceName = "nobody" }));
        Assert.Empty(await FindAsync(new TraceQuery { ServiceName = "Payments" }));
    }

    [Fact]
    public async Task Search_without_a_service_covers_every_service()
    {
        var shop = await AppendShopAsync();

        Assert.Equal([shop.SlowOrderId, shop.BrowseId, shop.CheckoutId], Ids(await FindAsync(new TraceQuery())));
        Assert.Equal([shop.SlowOrderId, shop.CheckoutId], Ids(await FindAsync(new TraceQuery { OperationName = "POST /orders" })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("error", "true")) })));
    }

    [Fact]
    public async Task Search_by_operation_requires_the_operation_on_a_span_of_the_service()
    {
        var shop = await AppendShopAsync();

        Assert.Equal([shop.SlowOrderId, shop.CheckoutId], Ids(await FindAsync(new TraceQuery { ServiceName = "orders", OperationName = "POST /orders" })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { ServiceName = "orders", OperationName = "Charge" })));
        Assert.Empty(await FindAsync(new TraceQuery { ServiceName = "gateway", OperationName = "Charge" }));
        Assert.Empty(await FindAsync(new TraceQuery { ServiceName = "orders", OperationName = "charge" }));
    }

    [Fact]
    public async Task Search_by_span_attribute_matches_the_text_of_every_value_type()
    {
        var shop = await AppendShopAsync();

        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("order.id", "o-1")) })));
        Assert.Equal([shop.SlowOrderId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("order.id", "o-2")) })));
        Assert.Equal([shop.BrowseId, shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("http.status_code", "200")) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("db.retries", "3")) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("db.sample_ratio", "0.25")) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("db.cached", "false")) })));
        Assert.Empty(await FindAsync(new TraceQuery { Tags = Tags(("order.id", "o-3")) }));
        Assert.Empty(await FindAsync(new TraceQuery { Tags = Tags(("order.id", "O-1")) }));
        Assert.Empty(await FindAsync(new TraceQuery { Tags = Tags(("db.cached", "False")) }));
    }

    [Fact]
    public async Task Search_by_resource_event_scope_and_link_attributes()
    {
        var shop = await AppendShopAsync();

        Assert.Equal([shop.BrowseId, shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("host.name", "gw-1")) })));
        Assert.Equal([shop.BrowseId, shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("resource.host.name", "gw-1")) })));
        Assert.Empty(await FindAsync(new TraceQuery { Tags = Tags(("resource.order.id", "o-1")) }));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("exception.type", "CardDeclined")) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("otel.scope.name", "Payments.Db")) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("scope.version", "2.1.0")) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("scope.team", "payments")) })));
        Assert.Equal([shop.SlowOrderId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("link.reason", "retry")) })));
    }

    [Fact]
    public async Task Search_by_the_tags_jaeger_derives_from_otlp_fields()
    {
        var shop = await AppendShopAsync();

        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("error", "true")) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { ServiceName = "payments", Tags = Tags(("error", "true")) })));
        Assert.Empty(await FindAsync(new TraceQuery { ServiceName = "gateway", Tags = Tags(("error", "true")) }));
        Assert.Equal([shop.SlowOrderId, shop.CheckoutId], Ids(await FindAsync(new TraceQuery { ServiceName = "orders", Tags = Tags(("error", "false")) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("otel.status_code", "ERROR")) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("otel.status_description", "card declined")) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("span.status", "error")) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { ServiceName = "orders", Tags = Tags(("span.kind", "client")) })));
        Assert.Equal([shop.BrowseId], Ids(await FindAsync(new TraceQuery { ServiceName = "catalog", Tags = Tags(("span.kind", "server")) })));
        Assert.Empty(await FindAsync(new TraceQuery { ServiceName = "catalog", Tags = Tags(("span.kind", "client")) }));
    }

    [Fact]
    public async Task Every_tag_must_hold_on_the_same_span()
    {
        var shop = await AppendShopAsync();

        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { Tags = Tags(("order.id", "o-1"), ("span.kind", "server")) })));
        Assert.Empty(await FindAsync(new TraceQuery { Tags = Tags(("order.id", "o-1"), ("span.kind", "client")) }));
        Assert.Empty(await FindAsync(new TraceQuery { ServiceName = "orders", Tags = Tags(("host.name", "gw-1")) }));
        Assert.Empty(await FindAsync(new TraceQuery { Tags = Tags(("order.id", "o-1"), ("error", "true")) }));
    }

    [Fact]
    public async Task Search_by_duration_bounds_is_inclusive()
    {
        var shop = await AppendShopAsync();

        Assert.Equal([shop.SlowOrderId], Ids(await FindAsync(new TraceQuery { MinDuration = TimeSpan.FromSeconds(1) })));
        Assert.Equal([shop.SlowOrderId], Ids(await FindAsync(new TraceQuery { MinDuration = TimeSpan.FromSeconds(2) })));
        Assert.Empty(await FindAsync(new TraceQuery { MinDuration = TimeSpan.FromSeconds(2) + TimeSpan.FromTicks(10) }));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { ServiceName = "payments", MaxDuration = TimeSpan.FromMilliseconds(10) })));
        Assert.Empty(await FindAsync(new TraceQuery { ServiceName = "payments", MaxDuration = TimeSpan.FromMilliseconds(9) }));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery
        {
            MinDuration = TimeSpan.FromMilliseconds(10),
            MaxDuration = TimeSpan.FromMilliseconds(10),
        })));
        Assert.Empty(await FindAsync(new TraceQuery { ServiceName = "gateway", MinDuration = TimeSpan.FromMilliseconds(501) }));
    }

    [Fact]
    public async Task Search_by_start_time_window_is_inclusive_and_applies_to_the_matching_span()
    {
        var shop = await AppendShopAsync();

        Assert.Equal([shop.SlowOrderId, shop.BrowseId], Ids(await FindAsync(new TraceQuery { StartTimeMin = s_t0.AddMinutes(5) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { StartTimeMax = s_t0.AddMinutes(5) })));
        Assert.Equal([shop.BrowseId], Ids(await FindAsync(new TraceQuery { StartTimeMin = s_t0.AddMinutes(10), StartTimeMax = s_t0.AddMinutes(10) })));
        Assert.Equal([shop.CheckoutId], Ids(await FindAsync(new TraceQuery { ServiceName = "payments", StartTimeMin = s_t0.AddMilliseconds(70) })));
        Assert.Empty(await FindAsync(new TraceQuery { ServiceName = "payments", StartTimeMin = s_t0.AddMilliseconds(71) }));
        Assert.Empty(await FindAsync(new TraceQuery { ServiceName = "gateway", StartTimeMin = s_t0.AddMilliseconds(20), StartTimeMax = s_t0.AddMinutes(9) }));
        Assert.Empty(await FindAsync(new TraceQuery { StartTimeMin = s_t0.AddHours(1) }));
    }

    [Fact]
    public async Task Search_returns_at_most_limit_traces_the_most_recent_ones()
    {
        var shop = await AppendShopAsync();

        Assert.Equal([shop.SlowOrderId, shop.BrowseId], Ids(await FindAsync(new TraceQuery { Limit = 2 })));
        Assert.Equal([shop.SlowOrderId], Ids(await FindAsync(new TraceQuery { Limit = 1 })));
        Assert.Equal([shop.BrowseId], Ids(await FindAsync(new TraceQuery { ServiceName = "gateway", Limit = 1 })));
    }

    [Fact]
    public async Task Most_recent_means_latest_trace_start_not_latest_arrival()
    {
        var late = NewTraceId();
        var early = NewTraceId();
        var svc = Resource("clock");
        await Store.AppendAsync(Tenant, [Create(svc, late, 1, "tick", s_t0.AddMinutes(30), TimeSpan.FromMilliseconds(1))], _ct);
        await Store.AppendAsync(Tenant, [Create(svc, early, 1, "tick", s_t0.AddMinutes(1), TimeSpan.FromMilliseconds(1))], _ct);
        await ReopenAsync();

        Assert.Equal([late, early], Ids(await FindAsync(new TraceQuery { ServiceName = "clock" })));
        Assert.Equal([late], Ids(await FindAsync(new TraceQuery { ServiceName = "clock", Limit = 1 })));
    }

    [Fact]
    public async Task Dependencies_count_calls_and_errors_between_different_services()
    {
        var first = new ShopTraces();
        var second = new ShopTraces(s_t0.AddMinutes(1));
        await Store.AppendAsync(Tenant, [.. first.Checkout, .. first.Browse, .. first.SlowOrder], _ct);
        await Store.AppendAsync(Tenant, second.Checkout, _ct);
        await ReopenAsync();

        var links = await Store.GetDependenciesAsync(Tenant, s_t0.AddHours(1), TimeSpan.FromHours(2), _ct);

        Assert.Equal(
        [
            new DependencyLink("gateway", "catalog", 1, 0),
            new DependencyLink("gateway", "orders", 2, 0),
            new DependencyLink("orders", "payments", 2, 2),
        ], Sorted(links));
    }

    [Fact]
    public async Task Dependencies_cover_only_calls_inside_the_window()
    {
        await AppendShopAsync();

        Assert.Equal(
            [new DependencyLink("gateway", "orders", 1, 0), new DependencyLink("orders", "payments", 1, 1)],
            Sorted(await Store.GetDependenciesAsync(Tenant, s_t0.AddMinutes(5), TimeSpan.FromMinutes(10), _ct)));
        Assert.Equal(
            [new DependencyLink("gateway", "catalog", 1, 0)],
            Sorted(await Store.GetDependenciesAsync(Tenant, s_t0.AddMinutes(15), TimeSpan.FromMinutes(10), _ct)));
        Assert.Empty(await Store.GetDependenciesAsync(Tenant, s_t0.AddMinutes(-1), TimeSpan.FromHours(1), _ct));
        Assert.Empty(await Store.GetDependenciesAsync(Tenant, s_t0.AddHours(3), TimeSpan.FromHours(1), _ct));
    }

    [Fact]
    public async Task A_tenant_never_sees_another_tenants_data()
    {
        var shop = new ShopTraces();
        await Store.AppendAsync(Tenant, shop.Checkout, _ct);
        await Store.AppendAsync(OtherTenant, shop.Browse, _ct);
        await ReopenAsync();

        Assert.Equal(["gateway", "orders", "payments"], await Store.GetServicesAsync(Tenant, _ct));
        Assert.Equal(["catalog", "gateway"], await Store.GetServicesAsync(OtherTenant, _ct));
        Assert.Empty(await Store.GetServicesAsync("contract-nobody", _ct));

        Assert.Empty(await Store.GetTraceAsync(Tenant, shop.BrowseId, _ct));
        Assert.Empty(await Store.GetTraceAsync(OtherTenant, shop.CheckoutId, _ct));
        Assert.Equal([new OperationInfo("GET /catalog", SpanKind.Server)], await Store.GetOperationsAsync(OtherTenant, "gateway", null, _ct));
        Assert.DoesNotContain(new OperationInfo("GET /catalog", SpanKind.Server), await Store.GetOperationsAsync(Tenant, "gateway", null, _ct));

        Assert.Equal([shop.CheckoutId], Ids(await Store.FindTracesAsync(Tenant, new TraceQuery(), _ct)));
        Assert.Equal([shop.BrowseId], Ids(await Store.FindTracesAsync(OtherTenant, new TraceQuery(), _ct)));
        Assert.Empty(await Store.FindTracesAsync("contract-nobody", new TraceQuery(), _ct));

        Assert.Equal(
            [new DependencyLink("gateway", "orders", 1, 0), new DependencyLink("orders", "payments", 1, 1)],
            Sorted(await Store.GetDependenciesAsync(Tenant, s_t0.AddHours(1), TimeSpan.FromHours(2), _ct)));
        Assert.Equal(
            [new DependencyLink("gateway", "catalog", 1, 0)],
            Sorted(await Store.GetDependenciesAsync(OtherTenant, s_t0.AddHours(1), TimeSpan.FromHours(2), _ct)));
    }

    [Fact]
    public async Task Same_trace_id_in_two_tenants_is_two_traces()
    {
        var traceId = NewTraceId();
        await Store.AppendAsync(Tenant, [Create(Resource("left"), traceId, 1, "a", s_t0, TimeSpan.FromMilliseconds(1))], _ct);
        await Store.AppendAsync(OtherTenant, [Create(Resource("right"), traceId, 2, "b", s_t0, TimeSpan.FromMilliseconds(1))], _ct);
        await ReopenAsync();

        Assert.Equal("left", Assert.Single(await Store.GetTraceAsync(Tenant, traceId, _ct)).ServiceName);
        Assert.Equal("right", Assert.Single(await Store.GetTraceAsync(OtherTenant, traceId, _ct)).ServiceName);
    }

    [Fact]
    public async Task Concurrent_appends_and_queries_lose_nothing()
    {
        const int writers = 4;
        const int tracesPerWriter = 40;
        var written = new List<TraceId>[writers];
        var writing = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            written[w] = [];
            var resource = Resource("writer-" + w);
            for (var i = 0; i < tracesPerWriter; i++)
            {
                var traceId = NewTraceId();
                var start = s_t0.AddSeconds(i);
                await Store.AppendAsync(Tenant, [Create(resource, traceId, 1, "root", start, TimeSpan.FromMilliseconds(3), SpanKind.Server)], _ct);
                await Store.AppendAsync(Tenant,
                [
                    Create(resource, traceId, 2, "child", start, TimeSpan.FromMilliseconds(1), parentSpanId: 1),
                    Create(Resource("db"), traceId, 3, "query", start, TimeSpan.FromMilliseconds(1), SpanKind.Client, parentSpanId: 2),
                ], _ct);
                written[w].Add(traceId);
            }
        })).ToArray();
        var reading = Task.Run(async () =>
        {
            var queries = 0;
            while (!writing.All(t => t.IsCompleted) || queries < 10)
            {
                _ = await Store.GetServicesAsync(Tenant, _ct);
                _ = await Store.FindTracesAsync(Tenant, new TraceQuery { Limit = 50, Tags = Tags(("span.kind", "client")) }, _ct);
                _ = await Store.GetDependenciesAsync(Tenant, s_t0.AddHours(1), TimeSpan.FromHours(2), _ct);
                queries++;
            }
        });
        await Task.WhenAll([.. writing, reading]);
        await ReopenAsync();

        foreach (var traceId in written.SelectMany(w => w))
        {
            Assert.Equal(3, (await Store.GetTraceAsync(Tenant, traceId, _ct)).Count);
        }

        var all = await FindAsync(new TraceQuery { Limit = 1000 });
        Assert.Equal(writers * tracesPerWriter, all.Count);
        Assert.All(all, t => Assert.Equal(3, t.Count));
        Assert.Equal(
            Enumerable.Range(0, writers).Select(w => new DependencyLink("writer-" + w, "db", tracesPerWriter, 0)),
            Sorted(await Store.GetDependenciesAsync(Tenant, s_t0.AddHours(1), TimeSpan.FromHours(2), _ct)));
    }
}
