using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp.Protobuf;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PCommon = OpenTelemetry.Proto.Common.V1;
using PResource = OpenTelemetry.Proto.Resource.V1;
using PTrace = OpenTelemetry.Proto.Trace.V1;

namespace Ariadne.Benchmarks;

/// <summary>
/// Decoding one OTLP ExportTraceServiceRequest: Ariadne's hand-written decoder (into the span model) against the
/// Grpc.Tools-generated parser (into generated message objects), on a realistic payload: 5 services (resources),
/// 100 spans, each with 10 attributes (strings, most repeated across spans, some unique and long; ints; a bool;
/// a double), a parent, a status, and an event on every fifth span.
/// </summary>
[MemoryDiagnoser]
public class OtlpDecodeBenchmarks
{
    private byte[] _payload = [];

    [Params(100, 1000)]
    public int Spans { get; set; }

    [GlobalSetup]
    public void Setup() => _payload = RealisticRequest(Spans).ToByteArray();

    [Benchmark(Baseline = true)]
    public ExportTraceServiceRequest GeneratedParser() => ExportTraceServiceRequest.Parser.ParseFrom(_payload);

    [Benchmark]
    public SpanBatch AriadneDecoder()
    {
        var batch = new SpanBatch();
        OtlpProtobufTraceDecoder.Decode(_payload, batch);
        return batch;
    }

    internal static ExportTraceServiceRequest RealisticRequest(int spanCount)
    {
        var random = new Random(42);
        string[] services = ["frontend", "cart", "checkout", "payments", "inventory"];
        string[] routes = ["/api/cart/{id}", "/api/checkout", "/api/products/{sku}", "/api/pay", "/health"];
        var request = new ExportTraceServiceRequest();
        foreach (var service in services)
        {
            var resource = new PResource.Resource();
            resource.Attributes.Add(Text("service.name", service));
            resource.Attributes.Add(Text("service.version", "2.3.1"));
            resource.Attributes.Add(Text("host.name", $"{service}-7d9f8b-x2k4p"));
            resource.Attributes.Add(Text("telemetry.sdk.language", "dotnet"));
            var scope = new PTrace.ScopeSpans { Scope = new PCommon.InstrumentationScope { Name = "Microsoft.AspNetCore", Version = "10.0.0" } };
            request.ResourceSpans.Add(new PTrace.ResourceSpans { Resource = resource, ScopeSpans = { scope } });
        }

        var traceId = new byte[16];
        var spanId = new byte[8];
        var parentId = new byte[8];
        for (var i = 0; i < spanCount; i++)
        {
            if (i % 10 == 0)
            {
                random.NextBytes(traceId);
            }

            random.NextBytes(spanId);
            var start = 1_700_000_000_000_000_000UL + ((ulong)i * 1_000_000);
            var route = routes[i % routes.Length];
            var span = new PTrace.Span
            {
                TraceId = ByteString.CopyFrom(traceId),
                SpanId = ByteString.CopyFrom(spanId),
                ParentSpanId = i % 10 == 0 ? ByteString.Empty : ByteString.CopyFrom(parentId),
                Name = $"GET {route}",
                Kind = i % 2 == 0 ? PTrace.Span.Types.SpanKind.Server : PTrace.Span.Types.SpanKind.Client,
                StartTimeUnixNano = start,
                EndTimeUnixNano = start + (ulong)random.Next(100_000, 50_000_000),
                Flags = 0x301,
                Status = new PTrace.Status { Code = i % 17 == 0 ? PTrace.Status.Types.StatusCode.Error : PTrace.Status.Types.StatusCode.Unset },
                Attributes =
                {
                    Text("http.request.method", "GET"),
                    Text("http.route", route),
                    Text("url.full", $"https://shop.example.com{route.Replace("{id}", random.Next(1_000_000).ToString())}?session={random.Next()}"),
                    Int("http.response.status_code", i % 17 == 0 ? 500 : 200),
                    Text("server.address", "shop.example.com"),
                    Text("user.id", $"u-{random.Next(5000)}"),
                    Text("db.system", "postgresql"),
                    Text("db.statement", $"SELECT id, sku, quantity, price FROM cart_items WHERE cart_id = {random.Next()} ORDER BY added_at"),
                    new PCommon.KeyValue { Key = "customer.vip", Value = new PCommon.AnyValue { BoolValue = i % 3 == 0 } },
                    new PCommon.KeyValue { Key = "order.value", Value = new PCommon.AnyValue { DoubleValue = random.Next(100, 50_000) / 100.0 } },
                },
            };
            if (i % 5 == 0)
            {
                span.Events.Add(new PTrace.Span.Types.Event { Name = "cache miss", TimeUnixNano = start + 1000, Attributes = { Text("cache.key", $"cart:{i}") } });
            }

            spanId.CopyTo(parentId, 0);
            request.ResourceSpans[i % services.Length].ScopeSpans[0].Spans.Add(span);
        }

        return request;
    }

    private static PCommon.KeyValue Text(string key, string value) => new() { Key = key, Value = new PCommon.AnyValue { StringValue = value } };

    private static PCommon.KeyValue Int(string key, long value) => new() { Key = key, Value = new PCommon.AnyValue { IntValue = value } };
}
