using Ariadne.Model;
using static Ariadne.Tests.Infrastructure.TestSpans;

namespace Ariadne.Tests.Query;

/// <summary>
/// A realistic checkout: gateway (ASP.NET Core) → orders over HTTP → payments over gRPC, where the card is declined.
/// Payments runs on another host whose clock is 2 ms behind, so Jaeger's clock-skew pass has something to say.
/// Fixed ids and times keep the golden files stable.
/// </summary>
public static class CheckoutTrace
{
    public static readonly TraceId TraceId = new(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736);

    public static readonly TraceId LinkedTraceId = new(0x5b8aa5a2d2c872e8, 0x321cf37308d69df2);

    public static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-03-02T09:15:27.123456789Z", System.Globalization.CultureInfo.InvariantCulture).AddTicks(7);

    public static Span[] Spans()
    {
        var gateway = Resource(
            "gateway",
            KeyValue.String("service.version", "1.4.0"),
            KeyValue.String("host.name", "gw-1"),
            KeyValue.String("deployment.environment", "prod"),
            KeyValue.String("telemetry.sdk.language", "dotnet"),
            KeyValue.String("telemetry.sdk.name", "opentelemetry"),
            KeyValue.String("telemetry.sdk.version", "1.20.1"));
        var orders = Resource(
            "orders",
            KeyValue.String("host.name", "orders-1"),
            KeyValue.String("telemetry.sdk.language", "dotnet"));
        var payments = Resource(
            "payments",
            KeyValue.String("host.name", "pay-1"),
            KeyValue.Int("process.pid", 4242),
            new KeyValue("host.ip", AnyValue.FromArray([AnyValue.FromString("10.1.0.7")])));
        var aspNetCore = new InstrumentationScope { Name = "Microsoft.AspNetCore" };
        var httpClient = new InstrumentationScope { Name = "System.Net.Http" };
        var grpcClient = new InstrumentationScope { Name = "Grpc.Net.Client", Version = "2.85.0" };
        var grpcServer = new InstrumentationScope { Name = "Grpc.AspNetCore.Server", Version = "2.85.0" };
        var db = new InstrumentationScope { Name = "Npgsql", Version = "9.0.3", Attributes = [KeyValue.String("db.driver", "npgsql")] };
        static DateTimeOffset At(double ms) => Start.AddTicks((long)(ms * TimeSpan.TicksPerMillisecond));
        static TimeSpan Ms(double ms) => TimeSpan.FromTicks((long)(ms * TimeSpan.TicksPerMillisecond));

        var root = Create(gateway, TraceId, 0x00f067aa0ba902b7, "GET /checkout", At(0), Ms(512.25), SpanKind.Server,
            attributes:
            [
                KeyValue.String("http.request.method", "GET"),
                KeyValue.String("url.path", "/checkout"),
                KeyValue.String("http.route", "/checkout"),
                KeyValue.Int("http.response.status_code", 502),
                KeyValue.String("user_agent.original", "Mozilla/5.0 <checkout> & co"),
            ],
            scope: aspNetCore);
        root.TraceState = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
        root.Flags = 0x301;
        var callOrders = Create(gateway, TraceId, 0x3b1c7a5d44e2f9a0, "POST", At(10), Ms(490), SpanKind.Client, parentSpanId: 0x00f067aa0ba902b7,
            attributes:
            [
                KeyValue.String("http.request.method", "POST"),
                KeyValue.String("url.full", "http://orders:8080/orders"),
                KeyValue.String("server.address", "orders"),
                KeyValue.Int("server.port", 8080),
                KeyValue.Int("http.response.status_code", 502),
            ],
            scope: httpClient);
        var createOrder = Create(orders, TraceId, 0x5fb397be34d26b51, "POST /orders", At(20), Ms(470.5), SpanKind.Server, parentSpanId: 0x3b1c7a5d44e2f9a0,
            status: StatusCode.Ok,
            attributes:
            [
                KeyValue.String("http.request.method", "POST"),
                KeyValue.String("http.route", "/orders"),
                KeyValue.String("order.id", "o-1001"),
                KeyValue.String("customer.tier", "gold"),
                KeyValue.Double("order.value", 59.99),
                KeyValue.Int("order.items", 3),
                KeyValue.Int("order.created_ns", 1772442927123456789),
            ],
            events:
            [
                new SpanEvent(Nanos(At(25)), "order.validated", [KeyValue.Int("items", 3), KeyValue.Bool("express", false)]),
                new SpanEvent(Nanos(At(22)), "order.received", []),
            ],
            scope: aspNetCore);
        var charge = Create(orders, TraceId, 0x7d1a2f9c0b3e4d58, "payments.PaymentService/Charge", At(50), Ms(250), SpanKind.Client, parentSpanId: 0x5fb397be34d26b51,
            status: StatusCode.Error,
            attributes:
            [
                KeyValue.String("rpc.system", "grpc"),
                KeyValue.String("rpc.service", "payments.PaymentService"),
                KeyValue.String("rpc.method", "Charge"),
                KeyValue.Int("rpc.grpc.status_code", 9),
            ],
            scope: grpcClient);
        var chargeServer = Create(payments, TraceId, 0x9c4e1d2a7f3b5e60, "payments.PaymentService/Charge", At(48), Ms(240), SpanKind.Server, parentSpanId: 0x7d1a2f9c0b3e4d58,
            status: StatusCode.Error, statusMessage: "card declined",
            attributes:
            [
                KeyValue.String("rpc.system", "grpc"),
                KeyValue.Int("rpc.grpc.status_code", 9),
                KeyValue.Double("payment.amount", 59.99),
                KeyValue.Bool("payment.retry", false),
                new KeyValue("payment.token", AnyValue.FromBytes([0xde, 0xad, 0xbe, 0xef])),
                new KeyValue("payment.methods", AnyValue.FromArray([AnyValue.FromString("card"), AnyValue.FromString("wallet")])),
            ],
            events:
            [
                new SpanEvent(Nanos(At(280)), "exception",
                [
                    KeyValue.String("exception.type", "Payments.CardDeclinedException"),
                    KeyValue.String("exception.message", "card declined"),
                    KeyValue.String("exception.stacktrace", "Payments.CardDeclinedException: card declined\n   at Payments.Charge()"),
                ]),
            ],
            scope: grpcServer);
        chargeServer.DroppedAttributesCount = 2;
        var query = Create(payments, TraceId, 0xa1b2c3d4e5f60718, "SELECT payments.cards", At(60), Ms(12.345678), SpanKind.Client, parentSpanId: 0x9c4e1d2a7f3b5e60,
            attributes:
            [
                KeyValue.String("db.system", "postgresql"),
                KeyValue.String("db.query.text", "SELECT * FROM cards WHERE token = $1"),
                KeyValue.Int("db.response.returned_rows", 0),
            ],
            links:
            [
                new SpanLink(LinkedTraceId, new SpanId(0x1f2e3d4c5b6a7988), "", [KeyValue.String("link.reason", "cache warm-up")]),
            ],
            scope: db);
        var publish = Create(orders, TraceId, 0xb7c6d5e4f3a29180, "orders publish", At(300), Ms(4), SpanKind.Producer, parentSpanId: 0x5fb397be34d26b51,
            attributes:
            [
                KeyValue.String("messaging.system", "rabbitmq"),
                KeyValue.String("messaging.destination.name", "orders"),
            ],
            links:
            [
                new SpanLink(TraceId, new SpanId(0x5fb397be34d26b51), "", [KeyValue.String("opentracing.ref_type", "child_of")]),
            ]);
        return [root, callOrders, createOrder, charge, chargeServer, query, publish];
    }
}
