using Ariadne.Model;

namespace Ariadne.Benchmarks;

/// <summary>
/// A shop-like span mix: 8 services, ~40 operations, traces of 3–15 spans, HTTP/DB/messaging attributes with
/// realistic cardinality (routes, status codes, user ids), 2% errors, log-normal durations.
/// </summary>
internal sealed class RealisticSpans(int seed, DateTimeOffset start, TimeSpan spread) : ITraceGenerator
{
    private static readonly string[] s_services = ["gateway", "catalog", "inventory", "orders", "payments", "notifications", "users", "search"];
    private static readonly string[] s_routes = ["/", "/products", "/products/{id}", "/cart", "/cart/items", "/checkout", "/orders/{id}", "/login", "/search", "/recommendations"];
    private static readonly string[] s_methods = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
    private static readonly string[] s_tables = ["products", "stock", "orders", "order_items", "users", "payments"];
    private readonly Random _random = new(seed);
    private readonly Resource[] _resources = s_services.Select(s => new Resource
    {
        ServiceName = s,
        Attributes =
        [
            KeyValue.String("service.name", s), KeyValue.String("service.version", "1.4.2"),
            KeyValue.String("deployment.environment", "production"), KeyValue.String("host.name", s + "-7f9c4d-x2k"),
            KeyValue.String("telemetry.sdk.language", "dotnet"), KeyValue.String("telemetry.sdk.version", "1.20.1"),
        ],
    }).ToArray();
    private readonly InstrumentationScope _scope = new() { Name = "OpenTelemetry.Instrumentation.AspNetCore", Version = "1.20.2" };

    /// <summary>A trace starting at a random time in the spread.</summary>
    public List<Span> NextTrace() => NextTrace(_random.NextDouble());

    /// <summary>
    /// A trace starting at <paramref name="progress"/> (0–1) through the spread, plus up to a second of jitter: what a
    /// live system ingests, spans arriving about when they happened.
    /// </summary>
    public List<Span> NextTrace(double progress)
    {
        var traceId = new TraceId((ulong)_random.NextInt64(), (ulong)_random.NextInt64());
        var startNanos = (start - DateTimeOffset.UnixEpoch).Ticks * 100 + (long)(progress * spread.Ticks * 100) + _random.Next(1_000_000_000);
        var count = _random.Next(3, 16);
        var spans = new List<Span>(count);
        var error = _random.NextDouble() < 0.02;
        var route = s_routes[_random.Next(s_routes.Length)];
        var userId = "user-" + _random.Next(100_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < count; i++)
        {
            var parent = i == 0 ? default : spans[_random.Next(i)];
            var service = i == 0 ? 0 : _random.Next(1, s_services.Length);
            var duration = (long)(Math.Exp(_random.NextDouble() * 3 + 13) / (i + 1)); // ~0.4 ms – 8 ms per level
            var spanStart = parent is null ? startNanos : parent.StartTimeUnixNano + _random.Next(1_000_000);
            var isDb = i > 0 && _random.NextDouble() < 0.4;
            var status = error && i == count - 1 ? StatusCode.Error : StatusCode.Unset;
            KeyValue[] attributes = isDb
                ? [KeyValue.String("db.system", "postgresql"), KeyValue.String("db.name", "shop"),
                   KeyValue.String("db.statement", "SELECT * FROM " + s_tables[_random.Next(s_tables.Length)] + " WHERE id = $1"),
                   KeyValue.String("net.peer.name", "postgres")]
                : [KeyValue.String("http.request.method", s_methods[_random.Next(s_methods.Length)]), KeyValue.String("http.route", route),
                   KeyValue.Int("http.response.status_code", status == StatusCode.Error ? 500 : 200),
                   KeyValue.String("url.scheme", "http"), KeyValue.String("user.id", userId)];
            spans.Add(new Span
            {
                TraceId = traceId,
                SpanId = new SpanId((ulong)_random.NextInt64()),
                ParentSpanId = parent?.SpanId ?? default,
                Flags = 1,
                Name = isDb ? "SELECT shop" : (i == 0 ? "GET " + route : s_services[service] + " " + route),
                Kind = isDb ? SpanKind.Client : (i == 0 ? SpanKind.Server : SpanKind.Internal),
                StartTimeUnixNano = spanStart,
                EndTimeUnixNano = spanStart + duration,
                Attributes = attributes,
                StatusCode = status,
                StatusMessage = status == StatusCode.Error ? "Internal Server Error" : string.Empty,
                Resource = _resources[service],
                Scope = _scope,
            });
        }

        return spans;
    }
}
