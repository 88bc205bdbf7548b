using Ariadne.Model;

namespace Ariadne.Tests.Ui;

/// <summary>
/// A small shop's traces with known shape: a slow checkout whose critical path is known, two faster checkouts of
/// the same root operation, and a catalog browse. Times are relative to <see cref="Base"/> (ten minutes ago).
/// </summary>
public sealed class CheckoutTraces
{
    public static readonly TraceId Slow = new(0x5105_0000_0000_0001, 0x0000_0000_0000_0001);
    public static readonly TraceId Fast = new(0x5105_0000_0000_0002, 0x0000_0000_0000_0002);
    public static readonly TraceId Medium = new(0x5105_0000_0000_0003, 0x0000_0000_0000_0003);
    public static readonly TraceId Browse = new(0x5105_0000_0000_0004, 0x0000_0000_0000_0004);

    public const ulong SlowRoot = 0x101, SlowOrder = 0x102, SlowReserve = 0x103, SlowPrice = 0x104, SlowCharge = 0x105,
        SlowFraud = 0x106, SlowEmail = 0x107;

    private static readonly Resource s_gateway = Service("gateway");
    private static readonly Resource s_orders = Service("orders");
    private static readonly Resource s_inventory = Service("inventory");
    private static readonly Resource s_payments = Service("payments");
    private static readonly Resource s_catalog = Service("catalog");
    private static readonly Resource s_notifications = Service("notifications");

    public CheckoutTraces(DateTimeOffset now)
    {
        Base = (now.AddMinutes(-10) - DateTimeOffset.UnixEpoch).Ticks * 100;
    }

    public long Base { get; }

    /// <summary>On the critical path of <see cref="Slow"/>: every span but catalog's get-price, which overlaps reserve.</summary>
    public static readonly ulong[] SlowCriticalPath = [SlowRoot, SlowOrder, SlowReserve, SlowCharge, SlowFraud, SlowEmail];

    public IReadOnlyList<Span> All() => [.. SlowCheckout(), .. FastCheckout(), .. MediumCheckout(), .. CatalogBrowse()];

    /// <summary>1 s checkout: payments' fraud check fails, an email is sent after the order.</summary>
    public IReadOnlyList<Span> SlowCheckout()
    {
        var t = Base;
        var root = Make(Slow, SlowRoot, 0, s_gateway, "POST /checkout", SpanKind.Server, t, 0, 1000);
        root.Attributes =
        [
            KeyValue.String("http.request.method", "POST"),
            KeyValue.Int("http.response.status_code", 502),
            KeyValue.Double("order.value", 99.5),
            KeyValue.Bool("cache.hit", false),
            KeyValue.String("order.id", "ord-1001"),
        ];
        var fraud = Make(Slow, SlowFraud, SlowCharge, s_payments, "fraud-check", SpanKind.Internal, t, 220, 300);
        fraud.StatusCode = StatusCode.Error;
        fraud.StatusMessage = "card declined";
        fraud.Events =
        [
            new SpanEvent(t + Ms(299), "exception",
            [
                KeyValue.String("exception.type", "CardDeclinedException"),
                KeyValue.String("exception.message", "card declined"),
            ]),
        ];
        return
        [
            root,
            Make(Slow, SlowOrder, SlowRoot, s_orders, "create-order", SpanKind.Server, t, 10, 900),
            Make(Slow, SlowReserve, SlowOrder, s_inventory, "reserve", SpanKind.Server, t, 20, 200),
            Make(Slow, SlowPrice, SlowOrder, s_catalog, "get-price", SpanKind.Server, t, 30, 100),
            Make(Slow, SlowCharge, SlowOrder, s_payments, "charge", SpanKind.Server, t, 210, 880),
            fraud,
            Make(Slow, SlowEmail, SlowRoot, s_notifications, "send-email", SpanKind.Consumer, t, 905, 950),
        ];
    }

    /// <summary>200 ms checkout that applied a discount (a span the slow one lacks).</summary>
    public IReadOnlyList<Span> FastCheckout()
    {
        var t = Base + Ms(60_000);
        return
        [
            Make(Fast, 0x201, 0, s_gateway, "POST /checkout", SpanKind.Server, t, 0, 200),
            Make(Fast, 0x202, 0x201, s_orders, "create-order", SpanKind.Server, t, 10, 190),
            Make(Fast, 0x203, 0x202, s_inventory, "reserve", SpanKind.Server, t, 20, 60),
            Make(Fast, 0x204, 0x202, s_orders, "apply-discount", SpanKind.Internal, t, 62, 68),
            Make(Fast, 0x205, 0x202, s_payments, "charge", SpanKind.Server, t, 70, 180),
        ];
    }

    public IReadOnlyList<Span> MediumCheckout()
    {
        var t = Base + Ms(120_000);
        return
        [
            Make(Medium, 0x301, 0, s_gateway, "POST /checkout", SpanKind.Server, t, 0, 300),
            Make(Medium, 0x302, 0x301, s_orders, "create-order", SpanKind.Server, t, 10, 290),
            Make(Medium, 0x303, 0x302, s_inventory, "reserve", SpanKind.Server, t, 20, 100),
            Make(Medium, 0x305, 0x302, s_payments, "charge", SpanKind.Server, t, 110, 280),
        ];
    }

    public IReadOnlyList<Span> CatalogBrowse()
    {
        var t = Base + Ms(180_000);
        return
        [
            Make(Browse, 0x401, 0, s_gateway, "GET /products", SpanKind.Server, t, 0, 40),
            Make(Browse, 0x402, 0x401, s_catalog, "list-products", SpanKind.Server, t, 5, 35),
        ];
    }

    /// <summary>A trace of <paramref name="count"/> spans: a root with nested fan-out, for load-time measurement.</summary>
    public static IReadOnlyList<Span> Large(TraceId traceId, int count, long startNanos)
    {
        var services = new[] { s_gateway, s_orders, s_inventory, s_payments, s_catalog, s_notifications };
        var spans = new List<Span>(count);
        var root = Make(traceId, 1, 0, s_gateway, "POST /bulk-import", SpanKind.Server, startNanos, 0, count * 2);
        spans.Add(root);
        for (var i = 2; i <= count; i++)
        {
            // Parents are earlier spans, every 8th starts a new branch under the root: depth stays modest.
            var parent = i % 8 == 0 ? 1UL : (ulong)(i - 1);
            var span = Make(traceId, (ulong)i, parent, services[i % services.Length], $"step-{i % 37}", SpanKind.Internal, startNanos, i, i + 3);
            if (i % 97 == 0)
            {
                span.StatusCode = StatusCode.Error;
            }

            spans.Add(span);
        }

        return spans;
    }

    private static long Ms(long ms) => ms * 1_000_000;

    private static Resource Service(string name) =>
        new() { ServiceName = name, Attributes = [KeyValue.String("service.name", name), KeyValue.String("host.name", "shop-1")] };

    private static Span Make(TraceId traceId, ulong id, ulong parent, Resource resource, string name, SpanKind kind, long t0, long startMs, long endMs) => new()
    {
        TraceId = traceId,
        SpanId = new SpanId(id),
        ParentSpanId = new SpanId(parent),
        Name = name,
        Kind = kind,
        StartTimeUnixNano = t0 + Ms(startMs),
        EndTimeUnixNano = t0 + Ms(endMs),
        Resource = resource,
        Scope = new InstrumentationScope { Name = "shop", Version = "1.0.0" },
    };
}
