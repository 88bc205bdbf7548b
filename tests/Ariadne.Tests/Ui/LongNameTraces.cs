using Ariadne.Model;

namespace Ariadne.Tests.Ui;

/// <summary>
/// Traces that stress the UI's layout, each set in a tenant of its own. <see cref="Checkouts"/>: gateway and
/// inventory with operation names, attribute keys and values far longer than a table cell, 40 checkouts of which 4
/// (i % 10 == 3) are slow in inventory. <see cref="Mesh"/>: a shop whose service map has next-layer calls, a call that
/// skips a layer (arcs over the top), a call back to an earlier layer (loops under) and edges with error rates.
/// </summary>
public sealed class LongNameTraces(DateTimeOffset now)
{
    public const string CheckoutTenant = "long-names";
    public const string MeshTenant = "mesh";

    public const string GatewayOperation = "POST /api/v2/storefront/checkout/{checkoutSessionId}/confirm-payment-and-reserve-inventory";
    public const string InventoryOperation = "ariadne.demo.inventory.InventoryReservationService/ReserveItemsAcrossWarehousesWithBackorderFallback";

    private readonly long _base = (now.AddMinutes(-20) - DateTimeOffset.UnixEpoch).Ticks * 100;

    public IEnumerable<Span> Checkouts() => Enumerable.Range(0, 40).SelectMany(i =>
    {
        var id = new TraceId(0x10E6_0000_0000_0000, (ulong)i + 1);
        var t = _base + i * 5_000_000_000L;
        var slow = i % 10 == 3;
        var root = Make(id, 1, 0, "gateway", GatewayOperation, SpanKind.Server, t, 0, slow ? 1000 + i : 120 + i);
        root.Attributes =
        [
            KeyValue.String("customer.loyalty.programme.membership.tier.at.time.of.checkout", slow ? "platinum-plus-with-extended-partner-benefits-2026" : $"standard-tier-{i % 3}"),
            KeyValue.String("http.route", "/api/v2/storefront/checkout/{checkoutSessionId}/confirm-payment-and-reserve-inventory"),
        ];
        var reserve = Make(id, 2, 1, "inventory", InventoryOperation, SpanKind.Server, t, 5, slow ? 950 : 60);
        reserve.Attributes = [KeyValue.String("inventory.warehouse.fulfilment.centre.identifier", slow ? "eu-west-central-fulfilment-centre-rotterdam-maasvlakte-2-building-7" : "eu-west-1")];
        var charge = Make(id, 3, 1, "payments", "payments.v1.PaymentAuthorisationService/AuthoriseAndCaptureCardPayment", SpanKind.Server, t, slow ? 955 : 65, slow ? 995 : 110);
        return new[] { root, reserve, charge };
    });

    public IEnumerable<Span> Mesh() => Enumerable.Range(0, 30).SelectMany(i =>
    {
        var id = new TraceId(0x3E54_0000_0000_0000, (ulong)i + 1);
        var t = _base + i * 5_000_000_000L;
        var orders = Make(id, 3, 1, "orders", "create-order", SpanKind.Server, t, 20, 180);
        if (i % 5 == 0)
        {
            orders.StatusCode = StatusCode.Error;
        }

        var card = Make(id, 6, 5, "card-network", "authorize", SpanKind.Server, t, 80, 150);
        if (i % 4 == 0)
        {
            card.StatusCode = StatusCode.Error;
        }

        return new[]
        {
            Make(id, 1, 0, "gateway", "POST /checkout", SpanKind.Server, t, 0, 200),
            Make(id, 2, 1, "catalog", "get-products", SpanKind.Server, t, 2, 15),
            orders,
            Make(id, 4, 3, "inventory", "reserve", SpanKind.Server, t, 25, 60),
            Make(id, 5, 3, "payments", "charge", SpanKind.Server, t, 70, 160),
            card,
            Make(id, 7, 3, "notifications", "send-receipt", SpanKind.Consumer, t, 165, 175),
            Make(id, 8, 1, "inventory", "check-stock", SpanKind.Server, t, 16, 19),   // gateway → inventory skips orders' layer
            Make(id, 9, 4, "catalog", "get-price", SpanKind.Server, t, 30, 40),        // inventory → catalog goes back a layer
        };
    });

    private static Span Make(TraceId traceId, ulong id, ulong parent, string service, string name, SpanKind kind, long t0, long startMs, long endMs) => new()
    {
        TraceId = traceId,
        SpanId = new SpanId(id),
        ParentSpanId = new SpanId(parent),
        Name = name,
        Kind = kind,
        StartTimeUnixNano = t0 + startMs * 1_000_000,
        EndTimeUnixNano = t0 + endMs * 1_000_000,
        Resource = new Resource { ServiceName = service, Attributes = [KeyValue.String("service.name", service)] },
    };
}
