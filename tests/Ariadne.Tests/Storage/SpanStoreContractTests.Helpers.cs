using Ariadne.Model;
using Ariadne.Storage;
using static Ariadne.Tests.Infrastructure.TestSpans;

namespace Ariadne.Tests.Storage;

/// <summary>The contract's helpers: reopening the engine, the shop data set, and span comparisons.</summary>
public abstract partial class SpanStoreContractTests
{
    protected async Task ReopenAsync() => Store = await ReopenAsync(Store);

    protected static IReadOnlyDictionary<string, string> Tags(params (string Key, string Value)[] tags) =>
        tags.ToDictionary(t => t.Key, t => t.Value);

    protected static TraceId[] Ids(IEnumerable<IReadOnlyList<Span>> traces) => [.. traces.Select(t => t[0].TraceId)];

    protected static DependencyLink[] Sorted(IEnumerable<DependencyLink> links) =>
        [.. links.OrderBy(l => l.Parent, StringComparer.Ordinal).ThenBy(l => l.Child, StringComparer.Ordinal)];

    protected async Task<IReadOnlyList<IReadOnlyList<Span>>> FindAsync(TraceQuery query)
    {
        var traces = await Store.FindTracesAsync(Tenant, query, _ct);
        Assert.All(traces, t => Assert.Single(t.Select(s => s.TraceId).Distinct()));
        return traces;
    }

    private async Task<ShopTraces> AppendShopAsync()
    {
        var shop = new ShopTraces();
        await Store.AppendAsync(Tenant, [.. shop.Checkout, .. shop.Browse], _ct);
        await Store.AppendAsync(Tenant, shop.SlowOrder, _ct);
        await ReopenAsync();
        return shop;
    }

    protected static void AssertSameSpans(IEnumerable<Span> expected, IEnumerable<Span> actual)
    {
        var expectedById = expected.OrderBy(s => s.SpanId.Value).ToList();
        var actualById = actual.OrderBy(s => s.SpanId.Value).ToList();
        Assert.Equal(expectedById.Select(s => s.SpanId), actualById.Select(s => s.SpanId));
        for (var i = 0; i < expectedById.Count; i++)
        {
            AssertSameSpan(expectedById[i], actualById[i]);
        }
    }

    protected static void AssertSameSpan(Span expected, Span actual)
    {
        Assert.Equal(expected.TraceId, actual.TraceId);
        Assert.Equal(expected.SpanId, actual.SpanId);
        Assert.Equal(expected.ParentSpanId, actual.ParentSpanId);
        Assert.Equal(expected.TraceState, actual.TraceState);
        Assert.Equal(expected.Flags, actual.Flags);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.StartTimeUnixNano, actual.StartTimeUnixNano);
        Assert.Equal(expected.EndTimeUnixNano, actual.EndTimeUnixNano);
        AssertSameAttributes(expected.Attributes, actual.Attributes);
        Assert.Equal(expected.DroppedAttributesCount, actual.DroppedAttributesCount);
        Assert.Equal(expected.Events.Length, actual.Events.Length);
        var expectedEvents = expected.Events.OrderBy(e => e.TimeUnixNano).ThenBy(e => e.Name, StringComparer.Ordinal).ToArray();
        var actualEvents = actual.Events.OrderBy(e => e.TimeUnixNano).ThenBy(e => e.Name, StringComparer.Ordinal).ToArray();
        for (var i = 0; i < expectedEvents.Length; i++)
        {
            Assert.Equal(expectedEvents[i].TimeUnixNano, actualEvents[i].TimeUnixNano);
            Assert.Equal(expectedEvents[i].Name, actualEvents[i].Name);
            AssertSameAttributes(expectedEvents[i].Attributes, actualEvents[i].Attributes);
            Assert.Equal(expectedEvents[i].DroppedAttributesCount, actualEvents[i].DroppedAttributesCount);
        }

        Assert.Equal(expected.DroppedEventsCount, actual.DroppedEventsCount);
        Assert.Equal(expected.Links.Length, actual.Links.Length);
        for (var i = 0; i < expected.Links.Length; i++)
        {
            Assert.Equal(expected.Links[i].TraceId, actual.Links[i].TraceId);
            Assert.Equal(expected.Links[i].SpanId, actual.Links[i].SpanId);
            Assert.Equal(expected.Links[i].TraceState, actual.Links[i].TraceState);
            Assert.Equal(expected.Links[i].Flags, actual.Links[i].Flags);
            AssertSameAttributes(expected.Links[i].Attributes, actual.Links[i].Attributes);
        }

        Assert.Equal(expected.DroppedLinksCount, actual.DroppedLinksCount);
        Assert.Equal(expected.StatusCode, actual.StatusCode);
        Assert.Equal(expected.StatusMessage, actual.StatusMessage);
        Assert.Equal(expected.ServiceName, actual.ServiceName);
        AssertSameAttributes(expected.Resource.Attributes, actual.Resource.Attributes);
        Assert.Equal(expected.Resource.DroppedAttributesCount, actual.Resource.DroppedAttributesCount);
        Assert.Equal(expected.Scope.Name, actual.Scope.Name);
        Assert.Equal(expected.Scope.Version, actual.Scope.Version);
        AssertSameAttributes(expected.Scope.Attributes, actual.Scope.Attributes);
    }

    private static void AssertSameAttributes(KeyValue[] expected, KeyValue[] actual) =>
        Assert.Equal(
            expected.OrderBy(kv => kv.Key, StringComparer.Ordinal),
            actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));

    /// <summary>
    /// Three traces of a small shop: a checkout that fails in payments (gateway → orders over HTTP → payments),
    /// a catalog browse ten minutes later and a slow order ten minutes after that.
    /// </summary>
    protected sealed class ShopTraces
    {
        public ShopTraces(DateTimeOffset? start = null)
        {
            var t0 = start ?? s_t0;
            var gateway = Resource("gateway", KeyValue.String("host.name", "gw-1"), KeyValue.String("deployment.environment", "prod"));
            var orders = Resource("orders", KeyValue.String("host.name", "orders-1"));
            var payments = Resource("payments");
            var catalog = Resource("catalog");
            static TimeSpan ms(double value) => TimeSpan.FromMilliseconds(value);

            Checkout =
            [
                Create(gateway, CheckoutId, 1, "GET /checkout", t0, ms(500), SpanKind.Server, attributes: [KeyValue.Int("http.status_code", 200)]),
                Create(gateway, CheckoutId, 2, "POST /orders", t0.AddMilliseconds(10), ms(390), SpanKind.Client, parentSpanId: 1),
                Create(orders, CheckoutId, 3, "POST /orders", t0.AddMilliseconds(20), ms(370), SpanKind.Server, parentSpanId: 2, attributes: [KeyValue.String("order.id", "o-1")]),
                Create(orders, CheckoutId, 4, "Charge", t0.AddMilliseconds(50), ms(250), SpanKind.Client, parentSpanId: 3),
                Create(payments, CheckoutId, 5, "Charge", t0.AddMilliseconds(60), ms(230), SpanKind.Server, parentSpanId: 4,
                    status: StatusCode.Error, statusMessage: "card declined",
                    events: [new SpanEvent(Nanos(t0.AddMilliseconds(280)), "exception", [KeyValue.String("exception.type", "CardDeclined")])]),
                Create(payments, CheckoutId, 6, "db.query", t0.AddMilliseconds(70), ms(10), SpanKind.Unspecified, parentSpanId: 5,
                    attributes: [KeyValue.Int("db.retries", 3), KeyValue.Double("db.sample_ratio", 0.25), KeyValue.Bool("db.cached", false)],
                    scope: new InstrumentationScope { Name = "Payments.Db", Version = "2.1.0", Attributes = [KeyValue.String("scope.team", "payments")] }),
            ];
            Browse =
            [
                Create(gateway, BrowseId, 1, "GET /catalog", t0.AddMinutes(10), ms(50), SpanKind.Server, attributes: [KeyValue.Int("http.status_code", 200)]),
                Create(catalog, BrowseId, 2, "GET /items", t0.AddMinutes(10).AddMilliseconds(5), ms(40), SpanKind.Server, parentSpanId: 1),
            ];
            SlowOrder =
            [
                Create(orders, SlowOrderId, 1, "POST /orders", t0.AddMinutes(20), TimeSpan.FromSeconds(2), SpanKind.Server,
                    attributes: [KeyValue.String("order.id", "o-2")],
                    links: [new SpanLink(CheckoutId, new SpanId(3), string.Empty, [KeyValue.String("link.reason", "retry")])]),
            ];
            Lowercase = [Create(Resource("Zeta"), NewTraceId(), 1, "z", t0.AddMinutes(30), ms(1))];
        }

        public TraceId CheckoutId { get; } = NewTraceId();

        public TraceId BrowseId { get; } = NewTraceId();

        public TraceId SlowOrderId { get; } = NewTraceId();

        public Span[] Checkout { get; }

        public Span[] Browse { get; }

        public Span[] SlowOrder { get; }

        public Span[] Lowercase { get; }
    }
}
