using System.Globalization;
using Ariadne.Model;

namespace Ariadne.LoadGen;

/// <summary>
/// Realistic synthetic traces of the reference e-commerce platform: gateway, catalog, inventory, orders, payments and
/// notifications, talking HTTP, gRPC, SQL and RabbitMQ. Three scenarios (browse, search, checkout) give 7 to 20
/// spans per trace with about ten attributes each (semantic-convention http.*, rpc.*, db.*, messaging.* plus the
/// business context user.id, session.id, customer.tier, order.id), log-normal latencies, and a few failures
/// (declined payments, inventory deadlines, database errors) with exception events.
/// Deterministic for a seed, so two runs send the same shapes.
/// </summary>
internal sealed class SyntheticTraces
{
    public static readonly string[] Services = ["gateway", "catalog", "inventory", "orders", "payments", "notifications"];

    private static readonly string[] s_tiers = ["free", "free", "free", "silver", "silver", "gold", "platinum"];
    private static readonly string[] s_userAgents =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1",
        "shop-android/4.12.0 okhttp/4.12.0",
    ];

    private static readonly InstrumentationScope s_aspNetCore = new() { Name = "Microsoft.AspNetCore", Version = "10.0.0" };
    private static readonly InstrumentationScope s_httpClient = new() { Name = "System.Net.Http", Version = "10.0.0" };
    private static readonly InstrumentationScope s_grpc = new() { Name = "Grpc.Net.Client", Version = "2.85.0" };
    private static readonly InstrumentationScope s_database = new() { Name = "Npgsql", Version = "10.0.0" };
    private static readonly InstrumentationScope s_messaging = new() { Name = "RabbitMQ.Client", Version = "7.2.2" };
    private static readonly InstrumentationScope s_app = new() { Name = "Shop.App", Version = "1.8.3" };

    private readonly Random _random;
    private readonly long _baseTimeUnixNano;
    private readonly Dictionary<string, Resource[]> _instances;
    private readonly List<Span> _spans = [];
    private TraceId _traceId;
    private KeyValue[] _context = [];
    private long _traceStart;

    /// <summary>The response status of the innermost HTTP server span that finished last, for its client span.</summary>
    private int _lastHttpStatus;

    public SyntheticTraces(int seed, long baseTimeUnixNano)
    {
        _random = new Random(seed);
        _baseTimeUnixNano = baseTimeUnixNano;
        _instances = Services.ToDictionary(s => s, s => Enumerable.Range(1, 2).Select(i => CreateResource(s, i)).ToArray());
    }

    /// <summary>The next trace: its spans, started within the second before the base time.</summary>
    public IReadOnlyList<Span> Next()
    {
        _spans.Clear();
        _traceId = new TraceId(NonZero(), NonZero());
        _traceStart = _baseTimeUnixNano - _random.NextInt64(1_000_000_000);
        var user = $"u-{_random.Next(1, 250_000)}";
        _context =
        [
            KeyValue.String("user.id", user),
            KeyValue.String("session.id", $"s-{NonZero() & 0xFFFFFFFFFF:x10}"),
            KeyValue.String("customer.tier", s_tiers[_random.Next(s_tiers.Length)]),
        ];

        var scenario = _random.NextDouble();
        if (scenario < 0.55)
        {
            Browse();
        }
        else if (scenario < 0.75)
        {
            Search();
        }
        else
        {
            _context = [.. _context, KeyValue.String("order.id", $"o-{_random.Next(100_000, 999_999)}")];
            Checkout();
        }

        return _spans.ToArray();
    }

    private void Browse()
    {
        var productId = _random.Next(1, 5000).ToString(CultureInfo.InvariantCulture);
        HttpServer("gateway", "GET", "/api/products/{id}", $"/api/products/{productId}", null, _traceStart, (root, t) =>
            HttpCall("gateway", "catalog", "GET", "/products/{id}", $"/products/{productId}", root, t, (server, t) =>
            {
                t = Query("catalog", server, t, "SELECT", "products", "SELECT id, name, price FROM products WHERE id = $1", 1);
                for (var i = _random.Next(0, 3); i > 0; i--)
                {
                    t = Query("catalog", server, t, "SELECT", "recommendations", "SELECT product_id FROM recommendations WHERE source_id = $1 LIMIT 8", _random.Next(0, 9));
                }

                return GrpcCall("catalog", "inventory", "inventory.Stock", "GetLevel", server, t, (stock, t) =>
                    Query("inventory", stock, t, "SELECT", "stock_levels", "SELECT quantity FROM stock_levels WHERE product_id = $1", 1));
            }));
    }

    private void Search()
    {
        HttpServer("gateway", "GET", "/api/search", "/api/search", null, _traceStart, (root, t) =>
            HttpCall("gateway", "catalog", "GET", "/search", "/search", root, t, (server, t) =>
            {
                var hits = _random.Next(1, 7);
                t = Query("catalog", server, t, "SELECT", "products", "SELECT id, name, price FROM products WHERE search @@ to_tsquery($1) LIMIT 20", hits);
                for (var i = 0; i < hits; i++)
                {
                    t = GrpcCall("catalog", "inventory", "inventory.Stock", "GetLevel", server, t, (_, t) => t + Micros(150, 0.7));
                }

                return t;
            }));
    }

    private void Checkout()
    {
        HttpServer("gateway", "POST", "/api/checkout", "/api/checkout", null, _traceStart, (root, t) =>
            HttpCall("gateway", "orders", "POST", "/orders", "/orders", root, t, (orders, t) =>
            {
                for (var i = _random.Next(0, 3); i > 0; i--)
                {
                    t = Query("orders", orders, t, "SELECT", "cart_items", "SELECT product_id, quantity FROM cart_items WHERE cart_id = $1", _random.Next(1, 6));
                }

                t = Query("orders", orders, t, "INSERT", "orders", "INSERT INTO orders (id, customer_id, total) VALUES ($1, $2, $3)", 1);
                t = GrpcCall("orders", "inventory", "inventory.Stock", "Reserve", orders, t, (reserve, t) =>
                    Query("inventory", reserve, t, "UPDATE", "stock_levels", "UPDATE stock_levels SET reserved = reserved + $2 WHERE product_id = $1", 1));
                t = GrpcCall("orders", "payments", "payments.Payments", "Charge", orders, t, (charge, t) =>
                {
                    t = Query("payments", charge, t, "INSERT", "payments", "INSERT INTO payments (id, order_id, amount, state) VALUES ($1, $2, $3, 'pending')", 1);
                    return HttpCall("payments", null, "POST", "/v1/charges", "/v1/charges", charge, t, null, external: "psp.example.com");
                }, failure: _random.NextDouble() < 0.04 ? "card declined" : null);
                return Publish("orders", "notifications", "orders.events", "order.placed", orders, t);
            }));
    }

    /// <summary>
    /// A server span around <paramref name="body"/>. A failed child makes it answer 503 (an error), or 402 for a
    /// declined card (not a server error); otherwise it passes on what the HTTP call inside it got.
    /// </summary>
    private long HttpServer(string service, string method, string route, string path, Span? parent, long start, Func<Span, long, long> body)
    {
        var span = Begin(service, s_aspNetCore, $"{method} {route}", SpanKind.Server, parent, start);
        _lastHttpStatus = 200;
        var end = body(span, start + Micros(200, 0.6)) + Micros(150, 0.6);
        var failed = _spans.Find(s => s.ParentSpanId == span.SpanId && s.IsError);
        var status = failed is null ? _lastHttpStatus : failed.StatusMessage == "card declined" ? 402 : 503;
        _lastHttpStatus = status;
        Finish(span, end, status >= 500 ? failed!.StatusMessage : null,
            KeyValue.String("http.request.method", method),
            KeyValue.String("http.route", route),
            KeyValue.String("url.path", path),
            KeyValue.Int("http.response.status_code", status),
            KeyValue.String("server.address", $"{service}.shop.internal"),
            KeyValue.String("client.address", $"10.1.{_random.Next(0, 255)}.{_random.Next(1, 255)}"),
            KeyValue.String("user_agent.original", s_userAgents[_random.Next(s_userAgents.Length)]));
        return end;
    }

    /// <summary>An HTTP client span, and the callee's server span inside it unless the callee is outside the platform.</summary>
    private long HttpCall(string caller, string? callee, string method, string route, string path, Span parent, long start,
        Func<Span, long, long>? body, string? external = null)
    {
        var host = external ?? $"{callee}.shop.internal";
        var span = Begin(caller, s_httpClient, method, SpanKind.Client, parent, start);
        var end = callee is null || body is null
            ? start + Micros(external is null ? 2_000 : 90_000, 0.5)
            : HttpServer(callee, method, route, path, span, start + Micros(300, 0.5), body) + Micros(300, 0.5);
        var failed = _spans.Find(s => s.ParentSpanId == span.SpanId && s.IsError);
        Finish(span, end, failed?.StatusMessage,
            KeyValue.String("http.request.method", method),
            KeyValue.String("url.full", $"https://{host}{path}"),
            KeyValue.String("server.address", host),
            KeyValue.Int("server.port", 443),
            KeyValue.Int("http.response.status_code", callee is null ? 200 : _lastHttpStatus),
            KeyValue.String("network.protocol.version", "1.1"),
            new KeyValue("http.request.header.accept", AnyValue.FromArray([AnyValue.FromString("application/json")])));
        return end;
    }

    private long GrpcCall(string caller, string callee, string rpcService, string rpcMethod, Span parent, long start,
        Func<Span, long, long> body, string? failure = null)
    {
        // Inventory misses its deadline now and then, whatever the caller.
        failure ??= callee == "inventory" && _random.NextDouble() < 0.01 ? "deadline exceeded" : null;
        var name = $"{rpcService}/{rpcMethod}";
        var client = Begin(caller, s_grpc, name, SpanKind.Client, parent, start);
        var server = Begin(callee, s_aspNetCore, name, SpanKind.Server, client, start + Micros(250, 0.5));
        var serverEnd = body(server, server.StartTimeUnixNano + Micros(100, 0.6)) + Micros(100, 0.6);
        if (failure == "deadline exceeded")
        {
            serverEnd += Micros(250_000, 0.2);
        }

        var code = failure switch { null => 0, "deadline exceeded" => 4, _ => 9 };
        KeyValue[] rpc = [KeyValue.String("rpc.system", "grpc"), KeyValue.String("rpc.service", rpcService), KeyValue.String("rpc.method", rpcMethod), KeyValue.Int("rpc.grpc.status_code", code)];
        Finish(server, serverEnd, failure, [.. rpc, KeyValue.String("server.address", $"{callee}.shop.internal"), KeyValue.String("client.address", $"10.0.{Array.IndexOf(Services, caller)}.{_random.Next(10, 40)}"), KeyValue.Int("server.port", 8443)]);
        if (failure is not null)
        {
            AddException(server, failure == "deadline exceeded" ? "Grpc.Core.RpcException" : "Shop.Payments.CardDeclinedException", failure);
        }

        var end = serverEnd + Micros(250, 0.5);
        Finish(client, end, failure, [.. rpc, KeyValue.String("server.address", $"{callee}.shop.internal"), KeyValue.Int("server.port", 8443), KeyValue.String("network.peer.address", $"10.0.{Array.IndexOf(Services, callee)}.{_random.Next(10, 40)}")]);
        return end;
    }

    private long Query(string service, Span parent, long start, string operation, string table, string text, int rows)
    {
        var span = Begin(service, s_database, $"{operation} {table}", SpanKind.Client, parent, start);
        var failure = _random.NextDouble() < 0.005 ? "57014: canceling statement due to statement timeout" : null;
        var end = start + Micros(operation == "SELECT" ? 1_200 : 2_500, 0.9);
        Finish(span, end, failure,
            KeyValue.String("db.system.name", "postgresql"),
            KeyValue.String("db.namespace", service),
            KeyValue.String("db.operation.name", operation),
            KeyValue.String("db.collection.name", table),
            KeyValue.String("db.query.text", text),
            KeyValue.String("server.address", $"{service}-db.shop.internal"),
            KeyValue.Int("db.response.returned_rows", failure is null ? rows : 0));
        if (failure is not null)
        {
            AddException(span, "Npgsql.PostgresException", failure);
        }

        return end;
    }

    /// <summary>A message to RabbitMQ and its consumption; the consumer's work is not on the producer's critical path.</summary>
    private long Publish(string producer, string consumer, string exchange, string routingKey, Span parent, long start)
    {
        var messageId = $"m-{NonZero():x16}";
        KeyValue[] messaging =
        [
            KeyValue.String("messaging.system", "rabbitmq"),
            KeyValue.String("messaging.destination.name", exchange),
            KeyValue.String("messaging.rabbitmq.destination.routing_key", routingKey),
            KeyValue.String("messaging.message.id", messageId),
            KeyValue.Int("messaging.message.body.size", _random.Next(300, 2000)),
        ];
        var publish = Begin(producer, s_messaging, $"publish {exchange}", SpanKind.Producer, parent, start);
        var end = start + Micros(400, 0.5);
        Finish(publish, end, null, [.. messaging, KeyValue.String("messaging.operation.type", "send")]);

        var receive = Begin(consumer, s_messaging, $"process {exchange}", SpanKind.Consumer, publish, end + Micros(3_000, 0.8));
        var work = Begin(consumer, s_app, "send order confirmation", SpanKind.Internal, receive, receive.StartTimeUnixNano + Micros(200, 0.5));
        var smtp = Begin(consumer, s_app, "smtp send", SpanKind.Client, work, work.StartTimeUnixNano + Micros(100, 0.5));
        var smtpEnd = smtp.StartTimeUnixNano + Micros(25_000, 0.6);
        Finish(smtp, smtpEnd, null,
            KeyValue.String("server.address", "smtp.mail.example.com"), KeyValue.Int("server.port", 587),
            KeyValue.String("network.transport", "tcp"), KeyValue.String("email.template", "order-confirmation"));
        var workEnd = smtpEnd + Micros(150, 0.5);
        Finish(work, workEnd, null,
            KeyValue.String("code.function.name", "Shop.Notifications.ConfirmationSender.SendAsync"),
            KeyValue.String("code.file.path", "src/Notifications/ConfirmationSender.cs"),
            KeyValue.Int("code.line.number", 48),
            KeyValue.String("notification.channel", "email"),
            KeyValue.String("notification.template", "order-confirmation"));
        Finish(receive, workEnd + Micros(100, 0.5), null, [.. messaging, KeyValue.String("messaging.operation.type", "process")]);
        return end;
    }

    private Span Begin(string service, InstrumentationScope scope, string name, SpanKind kind, Span? parent, long start)
    {
        var instances = _instances[service];
        var span = new Span
        {
            TraceId = _traceId,
            SpanId = new SpanId(NonZero()),
            ParentSpanId = parent?.SpanId ?? default,
            Name = name,
            Kind = kind,
            Flags = 0x01,
            StartTimeUnixNano = start,
            Resource = instances[_random.Next(instances.Length)],
            Scope = scope,
        };
        _spans.Add(span);
        return span;
    }

    private void Finish(Span span, long end, string? failure, params KeyValue[] attributes)
    {
        span.EndTimeUnixNano = Math.Max(end, span.StartTimeUnixNano + 1_000);
        span.Attributes = [.. attributes, .. _context];
        if (failure is not null)
        {
            span.StatusCode = StatusCode.Error;
            span.StatusMessage = failure;
        }
    }

    private void AddException(Span span, string type, string message) => span.Events =
    [
        new SpanEvent(span.EndTimeUnixNano - 1_000, "exception",
        [
            KeyValue.String("exception.type", type),
            KeyValue.String("exception.message", message),
        ]),
    ];

    /// <summary>A log-normal latency in nanoseconds with the given median (µs) and spread (σ of the log).</summary>
    private long Micros(double median, double sigma)
    {
        // Box–Muller: one standard normal from two uniforms.
        var normal = Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
        return (long)(median * Math.Exp(sigma * normal) * 1000);
    }

    private ulong NonZero()
    {
        ulong value;
        do
        {
            value = (ulong)_random.NextInt64(long.MinValue, long.MaxValue);
        }
        while (value == 0);
        return value;
    }

    private static Resource CreateResource(string service, int instance) => new()
    {
        ServiceName = service,
        Attributes =
        [
            KeyValue.String("service.name", service),
            KeyValue.String("service.namespace", "shop"),
            KeyValue.String("service.version", "1.8.3"),
            KeyValue.String("service.instance.id", $"{service}-{instance}"),
            KeyValue.String("deployment.environment.name", "load-test"),
            KeyValue.String("host.name", $"{service}-{instance}.shop.internal"),
            KeyValue.String("telemetry.sdk.name", "opentelemetry"),
            KeyValue.String("telemetry.sdk.language", "dotnet"),
            KeyValue.String("telemetry.sdk.version", "1.20.1"),
        ],
    };
}
