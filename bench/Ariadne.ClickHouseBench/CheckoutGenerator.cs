using Ariadne.Model;

namespace Ariadne.ClickHouseBench;

/// <summary>
/// Deterministic e-commerce traces shaped like the demo platform's: an HTTP request at the gateway fans out over
/// gRPC to catalog, inventory, orders and payments, with database spans under them; OTel semantic-convention
/// attributes, resources with SDK and host attributes, the ADR's business keys, ~2% failed payments with an
/// exception event. 8 to 30 spans per trace.
/// </summary>
internal sealed class CheckoutGenerator(int seed, DateTimeOffset start, DateTimeOffset end)
{
    public static readonly (string Name, string[] Operations)[] Services =
    [
        ("gateway", ["GET /products", "GET /products/{id}", "POST /cart", "POST /checkout", "GET /orders/{id}"]),
        ("catalog", ["catalog.ListProducts", "catalog.GetProduct"]),
        ("inventory", ["inventory.Reserve", "inventory.Check"]),
        ("orders", ["orders.Create", "orders.Get"]),
        ("payments", ["payments.Charge", "payments.Refund"]),
        ("users", ["users.Authenticate"]),
        ("notifications", ["order.created process"]),
    ];

    private static readonly string[] s_agents = ["Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)", "okhttp/4.12.0"];
    private static readonly string[] s_tiers = ["gold", "silver", "basic"];
    private readonly Random _random = new(seed);
    private readonly Dictionary<string, Resource[]> _resources = Services.ToDictionary(
        s => s.Name,
        s => Enumerable.Range(0, 3).Select(i => new Resource
        {
            ServiceName = s.Name,
            Attributes =
            [
                KeyValue.String("service.name", s.Name),
                KeyValue.String("service.version", "1.4." + i),
                KeyValue.String("host.name", $"{s.Name}-7f9c{i}d-x{i}q"),
                KeyValue.String("deployment.environment", "production"),
                KeyValue.String("telemetry.sdk.language", "dotnet"),
                KeyValue.String("telemetry.sdk.name", "opentelemetry"),
                KeyValue.String("telemetry.sdk.version", "1.9.0"),
            ],
        }).ToArray());

    private readonly InstrumentationScope _scope = new() { Name = "OpenTelemetry.Instrumentation.AspNetCore", Version = "1.9.0" };

    public List<TraceId> TraceIds { get; } = [];

    public IEnumerable<List<Span>> Batches(int totalSpans, int spansPerBatch)
    {
        var batch = new List<Span>(spansPerBatch + 32);
        var made = 0;
        while (made < totalSpans)
        {
            var trace = Trace();
            made += trace.Count;
            batch.AddRange(trace);
            if (batch.Count >= spansPerBatch)
            {
                yield return batch;
                batch = new List<Span>(spansPerBatch + 32);
            }
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    private List<Span> Trace()
    {
        var traceId = new TraceId((ulong)_random.NextInt64(), (ulong)_random.NextInt64());
        TraceIds.Add(traceId);
        var t0 = (start - DateTimeOffset.UnixEpoch).Ticks * 100 + (long)(_random.NextDouble() * (end - start).Ticks * 100);
        var fail = _random.Next(50) == 0;
        var user = "u-" + _random.Next(200_000);
        var session = "s-" + _random.NextInt64(1L << 40).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        var tier = s_tiers[_random.Next(s_tiers.Length)];
        var route = Services[0].Operations[_random.Next(Services[0].Operations.Length)];
        var duration = (long)(_random.Next(20, 400) * 1_000_000L * (fail ? 3 : 1));
        var spans = new List<Span>(32);
        var root = NewSpan(traceId, default, "gateway", route, SpanKind.Server, t0, duration);
        root.Attributes =
        [
            KeyValue.String("http.request.method", route.Split(' ')[0]),
            KeyValue.String("http.route", route.Split(' ')[1]),
            KeyValue.String("url.path", route.Split(' ')[1].Replace("{id}", _random.Next(5000).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)),
            KeyValue.Int("http.response.status_code", fail ? 500 : 200),
            KeyValue.String("user_agent.original", s_agents[_random.Next(s_agents.Length)]),
            KeyValue.String("client.address", $"10.{_random.Next(4)}.{_random.Next(256)}.{_random.Next(256)}"),
            KeyValue.String("user.id", user),
            KeyValue.String("session.id", session),
            KeyValue.String("customer.tier", tier),
        ];
        if (fail)
        {
            root.StatusCode = StatusCode.Error;
        }

        spans.Add(root);
        var calls = route == "POST /checkout" ? new[] { "users", "inventory", "orders", "payments", "notifications" }
            : route.StartsWith("GET /products", StringComparison.Ordinal) ? new[] { "users", "catalog", "inventory" }
            : new[] { "users", "orders" };
        var orderId = "ord-" + _random.NextInt64(1L << 36).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var offset = duration / 20;
        foreach (var service in calls)
        {
            var ops = Array.Find(Services, s => s.Name == service).Operations;
            var op = ops[_random.Next(ops.Length)];
            var callDuration = Math.Max(1_000_000, duration / calls.Length - _random.Next(1, 5) * 1_000_000L);
            var client = NewSpan(traceId, root.SpanId, "gateway", op, service == "notifications" ? SpanKind.Producer : SpanKind.Client, t0 + offset, callDuration);
            client.Attributes =
            [
                KeyValue.String("rpc.system", "grpc"),
                KeyValue.String("rpc.service", service),
                KeyValue.String("rpc.method", op.Split('.')[^1]),
                KeyValue.String("server.address", service),
                KeyValue.Int("server.port", 8080),
            ];
            var server = NewSpan(traceId, client.SpanId, service, op, service == "notifications" ? SpanKind.Consumer : SpanKind.Server, t0 + offset + 300_000, callDuration - 600_000);
            server.Attributes =
            [
                KeyValue.String("rpc.system", "grpc"),
                KeyValue.String("rpc.method", op.Split('.')[^1]),
                KeyValue.Int("rpc.grpc.status_code", fail && service == "payments" ? 13 : 0),
                KeyValue.String("user.id", user),
                .. service is "orders" or "payments" or "notifications" ? new[] { KeyValue.String("order.id", orderId) } : [],
                .. service == "payments" ? new[] { KeyValue.String("payment.id", "pay-" + _random.NextInt64(1L << 36)), KeyValue.Double("payment.amount", Math.Round(_random.NextDouble() * 300, 2)) } : [],
            ];
            if (fail && service == "payments")
            {
                server.StatusCode = StatusCode.Error;
                server.StatusMessage = "card declined";
                server.Events = [new SpanEvent(server.EndTimeUnixNano - 100_000, "exception", [KeyValue.String("exception.type", "CardDeclinedException"), KeyValue.String("exception.message", "The card was declined by the issuer.")])];
            }

            spans.Add(client);
            spans.Add(server);
            var queries = _random.Next(1, 4);
            for (var q = 0; q < queries; q++)
            {
                var dbStart = server.StartTimeUnixNano + (server.DurationNanos / (queries + 1)) * q;
                var db = NewSpan(traceId, server.SpanId, service, $"SELECT {service}", SpanKind.Client, dbStart, Math.Max(100_000, server.DurationNanos / (queries + 2)));
                db.Attributes =
                [
                    KeyValue.String("db.system", "postgresql"),
                    KeyValue.String("db.name", service),
                    KeyValue.String("db.statement", $"SELECT * FROM {service} WHERE id = $1 LIMIT {1 + q}"),
                    KeyValue.String("server.address", "pg-main"),
                ];
                spans.Add(db);
            }

            offset += callDuration;
        }

        return spans;
    }

    private Span NewSpan(TraceId traceId, SpanId parent, string service, string name, SpanKind kind, long startNanos, long durationNanos)
    {
        var resources = _resources[service];
        return new Span
        {
            TraceId = traceId,
            SpanId = new SpanId((ulong)_random.NextInt64() | 1),
            ParentSpanId = parent,
            Name = name,
            Kind = kind,
            StartTimeUnixNano = startNanos,
            EndTimeUnixNano = startNanos + durationNanos,
            Flags = 1,
            Resource = resources[_random.Next(resources.Length)],
            Scope = _scope,
        };
    }
}
