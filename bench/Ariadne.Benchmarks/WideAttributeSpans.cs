using System.Globalization;
using Ariadne.Model;

namespace Ariadne.Benchmarks;

/// <summary>
/// Issue 16's search data: 4 services, 26 operations, ~12.5 spans per trace (2M spans are ~160k traces), 10.4 string
/// attributes per span (60% of spans carry 10, 40% carry 11) of mixed cardinality (methods and tiers, routes, 100k
/// customer ids, 10k session ids), 2% of traces with an error, log-normal durations per operation.
/// </summary>
internal sealed class WideAttributeSpans(int seed, DateTimeOffset start, TimeSpan spread) : ITraceGenerator
{
    /// <summary>The issue's search: 1 h window, service + operation + one tag + a minimum duration.</summary>
    public static readonly TraceQuery IssueSearch = new()
    {
        ServiceName = "checkout",
        OperationName = "checkout POST /orders",
        Tags = new Dictionary<string, string> { ["customer.tier"] = "gold" },
        MinDuration = TimeSpan.FromMilliseconds(3),
    };

    private static readonly string[] s_services = ["frontend", "checkout", "inventory", "payments"];

    private static readonly string[][] s_operations =
    [
        ["GET /", "GET /cart", "POST /cart/items", "GET /products/{id}", "GET /search", "POST /checkout", "GET /account"],
        ["POST /orders", "GET /orders/{id}", "quote", "apply-discount", "reserve", "confirm", "SELECT orders"],
        ["GET /stock/{sku}", "reserve", "release", "SELECT stock", "UPDATE stock", "restock"],
        ["POST /payments", "authorize", "capture", "refund", "fraud-check", "SELECT payments"],
    ];

    private static readonly string[] s_tiers = ["gold", "silver", "bronze"];
    private static readonly string[] s_methods = ["GET", "GET", "POST", "PUT"];
    private static readonly string[] s_regions = ["eu-west-1", "eu-central-1", "us-east-1"];
    private readonly Random _random = new(seed);
    private readonly Resource[] _resources = s_services.Select(s => new Resource
    {
        ServiceName = s,
        Attributes = [KeyValue.String("service.name", s), KeyValue.String("service.version", "2.3.0"), KeyValue.String("host.name", s + "-5d8b7-q9z")],
    }).ToArray();

    private readonly InstrumentationScope _scope = new() { Name = "OpenTelemetry.Instrumentation.AspNetCore", Version = "1.20.2" };

    public List<Span> NextTrace() => NextTrace(_random.NextDouble());

    public List<Span> NextTrace(double progress)
    {
        var traceId = new TraceId((ulong)_random.NextInt64(), (ulong)_random.NextInt64());
        var startNanos = (start - DateTimeOffset.UnixEpoch).Ticks * 100 + (long)(progress * spread.Ticks * 100) + _random.Next(1_000_000_000);
        var count = _random.Next(8, 18);
        var spans = new List<Span>(count);
        var error = _random.NextDouble() < 0.02;
        var tier = s_tiers[_random.Next(s_tiers.Length)];
        var customer = "customer-" + _random.Next(100_000).ToString(CultureInfo.InvariantCulture);
        var session = "session-" + _random.Next(10_000).ToString(CultureInfo.InvariantCulture);
        var region = s_regions[_random.Next(s_regions.Length)];
        for (var i = 0; i < count; i++)
        {
            var parent = i == 0 ? null : spans[_random.Next(i)];
            var service = i == 0 ? 0 : _random.Next(s_services.Length);
            var operations = s_operations[service];
            var operation = operations[i == 0 ? _random.Next(3) : _random.Next(operations.Length)];
            // Per operation a different median (1–40 ms), log-normal around it.
            var median = 1_000_000L * (1 + (operation.Length * 7 % 40));
            var duration = (long)(median * Math.Exp(_random.NextDouble() * 2 - 1) / (i == 0 ? 1 : 2));
            var spanStart = parent is null ? startNanos : parent.StartTimeUnixNano + _random.Next(2_000_000);
            var status = error && i == count - 1 ? StatusCode.Error : StatusCode.Unset;
            var attributes = new List<KeyValue>(11)
            {
                KeyValue.String("http.request.method", s_methods[_random.Next(s_methods.Length)]),
                KeyValue.String("http.route", operation),
                KeyValue.String("url.scheme", "https"),
                KeyValue.String("server.address", s_services[service] + ".shop.internal"),
                KeyValue.String("network.protocol.version", "1.1"),
                KeyValue.String("customer.tier", tier),
                KeyValue.String("customer.id", customer),
                KeyValue.String("session.id", session),
                KeyValue.String("cloud.region", region),
                KeyValue.String("http.response.status_code", status == StatusCode.Error ? "500" : "200"),
            };
            if (_random.NextDouble() < 0.4)
            {
                attributes.Add(KeyValue.String("feature.flag", "checkout-v" + _random.Next(4).ToString(CultureInfo.InvariantCulture)));
            }

            spans.Add(new Span
            {
                TraceId = traceId,
                SpanId = new SpanId((ulong)_random.NextInt64()),
                ParentSpanId = parent?.SpanId ?? default,
                Flags = 1,
                Name = s_services[service] + " " + operation,
                Kind = i == 0 ? SpanKind.Server : (operation.StartsWith("SELECT", StringComparison.Ordinal) ? SpanKind.Client : SpanKind.Internal),
                StartTimeUnixNano = spanStart,
                EndTimeUnixNano = spanStart + duration,
                Attributes = [.. attributes],
                StatusCode = status,
                StatusMessage = status == StatusCode.Error ? "Internal Server Error" : string.Empty,
                Resource = _resources[service],
                Scope = _scope,
            });
        }

        return spans;
    }
}

/// <summary>A source of bench traces: at a random time of its spread, or at a point through it (arrival in time order).</summary>
internal interface ITraceGenerator
{
    List<Span> NextTrace();

    List<Span> NextTrace(double progress);
}
