using Ariadne.Model;

namespace Ariadne.Tests.Storage.Embedded;

/// <summary>Builds traces with every OTLP field set, so round trips through WAL and blocks are checked in full.</summary>
internal static class TestSpans
{
    private static long s_next = 1;

    public static TraceId NewTraceId() => new((ulong)Random.Shared.NextInt64(), (ulong)Random.Shared.NextInt64());

    public static SpanId NewSpanId() => new((ulong)Interlocked.Increment(ref s_next) * 0x9E3779B97F4A7C15UL);

    public static Resource Resource(string service) => new()
    {
        ServiceName = service,
        Attributes = [KeyValue.String("service.name", service), KeyValue.String("host.name", "node-1"), KeyValue.Int("process.pid", 42)],
    };

    /// <summary>A root span of <paramref name="service"/> and a child of <paramref name="childService"/> that errored.</summary>
    public static List<Span> Trace(DateTimeOffset start, string service = "frontend", string childService = "backend",
        string operation = "GET /", TimeSpan? duration = null, TraceId? traceId = null)
    {
        var id = traceId ?? NewTraceId();
        var startNanos = (start - DateTimeOffset.UnixEpoch).Ticks * 100;
        var rootDuration = (long)(duration ?? TimeSpan.FromMilliseconds(120)).TotalNanoseconds;
        var scope = new InstrumentationScope { Name = "test-lib", Version = "1.2.3", Attributes = [KeyValue.Bool("scope.flag", true)] };
        var root = new Span
        {
            TraceId = id,
            SpanId = NewSpanId(),
            TraceState = "vendor=1",
            Flags = 0x101,
            Name = operation,
            Kind = SpanKind.Server,
            StartTimeUnixNano = startNanos,
            EndTimeUnixNano = startNanos + rootDuration,
            Attributes =
            [
                KeyValue.String("http.method", "GET"),
                KeyValue.Int("http.status_code", 200),
                KeyValue.Double("ratio", 0.25),
                KeyValue.Bool("cached", false),
                new KeyValue("payload", AnyValue.FromBytes([1, 2, 3])),
                new KeyValue("list", AnyValue.FromArray([AnyValue.FromString("a"), AnyValue.FromInt(2)])),
                new KeyValue("map", AnyValue.FromKeyValueList([KeyValue.String("inner", "x")])),
            ],
            DroppedAttributesCount = 3,
            Events = [new SpanEvent(startNanos + 1000, "cache.miss", [KeyValue.String("cache.key", "user:1")], 1)],
            DroppedEventsCount = 2,
            StatusCode = StatusCode.Ok,
            Resource = Resource(service),
            Scope = scope,
        };
        var child = new Span
        {
            TraceId = id,
            SpanId = NewSpanId(),
            ParentSpanId = root.SpanId,
            Name = "query",
            Kind = SpanKind.Client,
            StartTimeUnixNano = startNanos + 10_000_000,
            EndTimeUnixNano = startNanos + 60_000_000,
            Attributes = [KeyValue.String("db.system", "postgresql")],
            Links = [new SpanLink(NewTraceId(), NewSpanId(), "k=v", [KeyValue.Int("link.n", 7)], 1)],
            DroppedLinksCount = 1,
            StatusCode = StatusCode.Error,
            StatusMessage = "timeout",
            Resource = Resource(childService),
        };
        return [root, child];
    }

    /// <summary>Every field of two spans as one comparable string.</summary>
    public static string Describe(Span s) => string.Join("|",
        s.TraceId, s.SpanId, s.ParentSpanId, s.TraceState, s.Flags, s.Name, s.Kind, s.StartTimeUnixNano, s.EndTimeUnixNano,
        Describe(s.Attributes), s.DroppedAttributesCount,
        string.Join(";", s.Events.Select(e => $"{e.TimeUnixNano},{e.Name},{Describe(e.Attributes)},{e.DroppedAttributesCount}")), s.DroppedEventsCount,
        string.Join(";", s.Links.Select(l => $"{l.TraceId},{l.SpanId},{l.TraceState},{Describe(l.Attributes)},{l.Flags}")), s.DroppedLinksCount,
        s.StatusCode, s.StatusMessage, s.Resource.ServiceName, Describe(s.Resource.Attributes),
        s.Scope.Name, s.Scope.Version, Describe(s.Scope.Attributes));

    private static string Describe(KeyValue[] attributes) =>
        string.Join(",", attributes.Select(a => $"{a.Key}={a.Value.Type}:{a.Value}"));
}
