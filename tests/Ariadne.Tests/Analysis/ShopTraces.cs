using Ariadne.Model;

namespace Ariadne.Tests.Analysis;

/// <summary>
/// 100 checkouts through orders' <c>POST /checkout</c> with a known answer, in their own tenant so they do not change
/// the counts of other tests. 90 are fast (100–189 ms); 10 are slow (1–1.09 s), and every slow one has
/// <c>customer.tier=gold</c> (on the root) and <c>payment.method=amex</c> (on payments' charge), where payments' charge
/// takes 900 ms. Among the fast ones 10 are gold and none pays with amex; 5 fast ones fail in payments with
/// <c>payment.method=discover</c>. Hosts alternate between orders-1 and orders-2 every ten checkouts, so both groups use both.
/// </summary>
public sealed class ShopTraces
{
    public const string Tenant = "shop";
    public const int Count = 100;
    public const int SlowCount = 10;
    public const int ErrorCount = 5;

    private static readonly Resource[] s_orders = [Service("orders", "orders-1"), Service("orders", "orders-2")];
    private static readonly Resource s_payments = Service("payments", "payments-1");
    private static readonly Resource s_inventory = Service("inventory", "inventory-1");

    public ShopTraces(DateTimeOffset now)
    {
        Base = (now.AddMinutes(-30) - DateTimeOffset.UnixEpoch).Ticks * 100;
    }

    public long Base { get; }

    public static TraceId Id(int i) => new(0x5A0F_0000_0000_0000, (ulong)i + 1);

    public static bool IsSlow(int i) => i % 10 == 3;

    public static bool IsError(int i) => i % 20 == 7;

    public IReadOnlyList<Span> All() => Enumerable.Range(0, Count).SelectMany(Checkout).ToList();

    public IReadOnlyList<Span> Checkout(int i)
    {
        var t = Base + i * 10_000_000_000L; // one every 10 s
        var slow = IsSlow(i);
        var fastIndex = i - i / 10 - (i % 10 > 3 ? 1 : 0); // 0..89 over the fast ones
        var tier = slow || fastIndex % 9 == 0 ? "gold" : fastIndex % 2 == 0 ? "silver" : "bronze";
        var method = slow ? "amex" : IsError(i) ? "discover" : fastIndex % 2 == 0 ? "visa" : "mastercard";
        var total = slow ? 1000 + i % 10 * 10 : 100 + fastIndex;
        var charge = slow ? 900 : 40;
        var id = Id(i);
        var root = Make(id, 1, 0, s_orders[i / 10 % 2], "POST /checkout", SpanKind.Server, t, 0, total);
        root.Attributes =
        [
            KeyValue.String("http.route", "/checkout"),
            KeyValue.String("customer.tier", tier),
            KeyValue.String("order.id", $"ord-{i}"),
        ];
        var reserve = Make(id, 2, 1, s_inventory, "reserve", SpanKind.Server, t, 5, 35);
        var pay = Make(id, 3, 1, s_payments, "charge", SpanKind.Server, t, 40, 40 + charge);
        pay.Attributes = [KeyValue.String("payment.method", method)];
        if (IsError(i))
        {
            pay.StatusCode = StatusCode.Error;
            pay.StatusMessage = "card declined";
        }

        var insert = Make(id, 4, 1, s_orders[i / 10 % 2], "INSERT orders", SpanKind.Client, t, 40 + charge + 2, total - 2);
        insert.Attributes = [KeyValue.String("db.system", "postgresql")];
        return [root, reserve, pay, insert];
    }

    private static Resource Service(string name, string host) =>
        new() { ServiceName = name, Attributes = [KeyValue.String("service.name", name), KeyValue.String("host.name", host)] };

    private static Span Make(TraceId traceId, ulong id, ulong parent, Resource resource, string name, SpanKind kind, long t0, long startMs, long endMs) => new()
    {
        TraceId = traceId,
        SpanId = new SpanId(id),
        ParentSpanId = new SpanId(parent),
        Name = name,
        Kind = kind,
        StartTimeUnixNano = t0 + startMs * 1_000_000,
        EndTimeUnixNano = t0 + endMs * 1_000_000,
        Resource = resource,
    };
}
