using Ariadne.Model;

namespace Ariadne.Tests.Sampling;

/// <summary>Spans for sampling tests: ids from a seeded generator, so failures reproduce.</summary>
internal sealed class SamplingTestData(int seed = 42)
{
    private readonly Random _random = new(seed);
    private readonly Dictionary<string, Resource> _resources = [];

    public TraceId NewTraceId() => new((ulong)_random.NextInt64(1, long.MaxValue), (ulong)_random.NextInt64(1, long.MaxValue));

    public SpanId NewSpanId() => new((ulong)_random.NextInt64(1, long.MaxValue));

    public Span Span(TraceId traceId, string service, string name, SpanId parent = default, long durationMs = 10, StatusCode status = StatusCode.Unset, params KeyValue[] attributes)
    {
        if (!_resources.TryGetValue(service, out var resource))
        {
            _resources[service] = resource = new Resource { ServiceName = service };
        }

        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        return new Span
        {
            TraceId = traceId,
            SpanId = NewSpanId(),
            ParentSpanId = parent,
            Name = name,
            Kind = SpanKind.Server,
            StartTimeUnixNano = start,
            EndTimeUnixNano = start + (durationMs * 1_000_000),
            StatusCode = status,
            Attributes = attributes,
            Resource = resource,
        };
    }

    public Span Root(string service, string name, long durationMs = 10, StatusCode status = StatusCode.Unset, params KeyValue[] attributes) =>
        Span(NewTraceId(), service, name, default, durationMs, status, attributes);
}
