using System.Globalization;
using System.Text;
using Ariadne.Model;

namespace Ariadne.Tests.Storage.ClickHouse;

/// <summary>
/// Checkout-shaped traces over four services with every field the span model has: attributes of each type,
/// resource and scope attributes, events, links, error statuses and the ADR's business keys.
/// </summary>
internal static class TraceData
{
    public static List<Span> Checkout(int index, DateTimeOffset start, bool fail = false)
    {
        var traceId = new TraceId(0x0af7651916cd43ddUL + (ulong)index, 0x8448eb211c80319cUL * (ulong)(index + 1));
        var gateway = new Resource
        {
            ServiceName = "gateway",
            Attributes = [KeyValue.String("service.name", "gateway"), KeyValue.String("customer.tier", index % 2 == 0 ? "gold" : "basic"), KeyValue.Int("host.cores", 2)],
        };
        var orders = new Resource { ServiceName = "orders", Attributes = [KeyValue.String("service.name", "orders")], DroppedAttributesCount = 1 };
        var payments = new Resource { ServiceName = "payments", Attributes = [KeyValue.String("service.name", "payments")] };
        var scope = new InstrumentationScope { Name = "Ariadne.Tests", Version = "1.0", Attributes = [KeyValue.Bool("scope.flag", true)] };
        var t0 = (start - DateTimeOffset.UnixEpoch).Ticks * 100;
        var orderId = $"ord-{index:D5}";

        var root = new Span
        {
            TraceId = traceId,
            SpanId = new SpanId(0x1000UL + (ulong)index),
            Name = "POST /checkout",
            Kind = SpanKind.Server,
            StartTimeUnixNano = t0,
            EndTimeUnixNano = t0 + (120 + index) * 1_000_000L,
            TraceState = "vendor=1",
            Flags = 1,
            Attributes =
            [
                KeyValue.String("http.method", "POST"),
                KeyValue.String("order.id", orderId),
                KeyValue.Int("user.id", 4200 + index),
                KeyValue.Int("http.status_code", fail ? 500 : 200),
                KeyValue.Double("cart.value", 19.25 + index),
                new("payload", AnyValue.FromBytes([1, 2, (byte)index])),
                new("tags", AnyValue.FromArray([AnyValue.FromString("a"), AnyValue.FromInt(7), AnyValue.FromBool(false)])),
                new("ctx", AnyValue.FromKeyValueList([KeyValue.String("region", "eu"), KeyValue.Double("weight", 0.5)])),
                new("nothing", AnyValue.Empty),
            ],
            DroppedAttributesCount = 2,
            Resource = gateway,
            Scope = scope,
            StatusCode = fail ? StatusCode.Error : StatusCode.Ok,
            StatusMessage = fail ? "payment declined" : string.Empty,
        };
        var call = new Span
        {
            TraceId = traceId,
            SpanId = new SpanId(0x2000UL + (ulong)index),
            ParentSpanId = root.SpanId,
            Name = "orders.Create",
            Kind = SpanKind.Client,
            StartTimeUnixNano = t0 + 5_000_000,
            EndTimeUnixNano = t0 + 100_000_000,
            Attributes = [KeyValue.String("rpc.system", "grpc"), KeyValue.String("session.id", "s-" + index)],
            Resource = gateway,
            Events = [new SpanEvent(t0 + 6_000_000, "retry", [KeyValue.Int("attempt", 2), KeyValue.String("reason", "timeout")], 1)],
            DroppedEventsCount = 3,
        };
        var create = new Span
        {
            TraceId = traceId,
            SpanId = new SpanId(0x3000UL + (ulong)index),
            ParentSpanId = call.SpanId,
            Name = "orders.Create",
            Kind = SpanKind.Server,
            StartTimeUnixNano = t0 + 10_000_000,
            EndTimeUnixNano = t0 + 90_000_000,
            Attributes = [KeyValue.String("order.id", orderId), KeyValue.String("db.system", "sqlite")],
            Resource = orders,
            Links = [new SpanLink(new TraceId(7, 8), new SpanId(9), "x=y", [KeyValue.String("link.kind", "batch")], 1)],
            DroppedLinksCount = 1,
        };
        var charge = new Span
        {
            TraceId = traceId,
            SpanId = new SpanId(0x4000UL + (ulong)index),
            ParentSpanId = create.SpanId,
            Name = "payments.Charge",
            Kind = SpanKind.Internal,
            StartTimeUnixNano = t0 + 20_000_000,
            EndTimeUnixNano = t0 + (fail ? 85_000_000 : 40_000_000),
            Attributes = [KeyValue.String("payment.id", "pay-" + index), KeyValue.String("quote", "it's a \\ \"test\"\t\n")],
            Resource = payments,
            StatusCode = fail ? StatusCode.Error : StatusCode.Unset,
            Events = fail ? [new SpanEvent(t0 + 80_000_000, "exception", [KeyValue.String("exception.type", "CardDeclined")])] : [],
        };
        return [root, call, create, charge];
    }

    /// <summary>Every field of a span as text, so two spans compare equal exactly when every field does.</summary>
    public static string Describe(Span s)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"{s.TraceId}/{s.SpanId}<{s.ParentSpanId} '{s.TraceState}' f{s.Flags} {s.Name} {s.Kind} {s.StartTimeUnixNano}..{s.EndTimeUnixNano} ");
        b.Append(CultureInfo.InvariantCulture, $"{s.StatusCode}:'{s.StatusMessage}' attrs[{Attrs(s.Attributes)}]-{s.DroppedAttributesCount} ");
        b.Append(CultureInfo.InvariantCulture, $"res[{s.Resource.ServiceName};{Attrs(s.Resource.Attributes)}]-{s.Resource.DroppedAttributesCount} ");
        b.Append(CultureInfo.InvariantCulture, $"scope[{s.Scope.Name};{s.Scope.Version};{Attrs(s.Scope.Attributes)}] ");
        foreach (var e in s.Events)
        {
            b.Append(CultureInfo.InvariantCulture, $"ev[{e.TimeUnixNano};{e.Name};{Attrs(e.Attributes)}-{e.DroppedAttributesCount}] ");
        }

        b.Append(CultureInfo.InvariantCulture, $"-{s.DroppedEventsCount} ");
        foreach (var l in s.Links)
        {
            b.Append(CultureInfo.InvariantCulture, $"link[{l.TraceId};{l.SpanId};{l.TraceState};{l.Flags};{Attrs(l.Attributes)}] ");
        }

        return b.Append(CultureInfo.InvariantCulture, $"-{s.DroppedLinksCount}").ToString();
    }

    public static IEnumerable<string> Describe(IEnumerable<Span> spans) => spans.Select(Describe).Order(StringComparer.Ordinal);

    private static string Attrs(KeyValue[] attributes) =>
        string.Join(",", attributes.Select(a => $"{a.Key}={a.Value.Type}:{a.Value}"));
}
