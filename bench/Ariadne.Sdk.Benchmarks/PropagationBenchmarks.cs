using System.Diagnostics;
using Ariadne.Instrumentation.Context;
using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Ariadne.Sdk.Benchmarks;

/// <summary>
/// What the SDK's propagator costs per hop: OpenTelemetry's ASP.NET Core instrumentation extracts from every
/// incoming request, and its HttpClient and gRPC instrumentations inject into every outgoing call, through the
/// composite of W3C trace context and the allowlisted baggage. The demo's checkout carries user, session and tier.
/// </summary>
[MemoryDiagnoser]
public class PropagationBenchmarks
{
    private static readonly Func<Dictionary<string, string>, string, IEnumerable<string>?> s_getter =
        static (carrier, name) => carrier.TryGetValue(name, out var value) ? [value] : null;

    private static readonly Action<Dictionary<string, string>, string, string> s_setter =
        static (carrier, name, value) => carrier[name] = value;

    private readonly TextMapPropagator _propagator = new CompositeTextMapPropagator([new TraceContextPropagator(), new AllowlistBaggagePropagator()]);
    private readonly Dictionary<string, string> _incoming = new(StringComparer.OrdinalIgnoreCase)
    {
        ["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ["baggage"] = "user.id=user-0042,session.id=sess-000042,customer.tier=standard",
    };

    private readonly Dictionary<string, string> _outgoing = new(StringComparer.OrdinalIgnoreCase);
    private PropagationContext _context;

    [GlobalSetup]
    public void Setup()
    {
        AriadneContext.Policy = BusinessContextPolicy.Default;
        _context = _propagator.Extract(default, _incoming, s_getter);
    }

    /// <summary>An incoming request: trace context and three allowlisted baggage entries.</summary>
    [Benchmark]
    public PropagationContext ExtractRequest() => _propagator.Extract(default, _incoming, s_getter);

    /// <summary>An outgoing call carrying the same context.</summary>
    [Benchmark]
    public int InjectCall()
    {
        _outgoing.Clear();
        _propagator.Inject(new PropagationContext(new ActivityContext(_context.ActivityContext.TraceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded), _context.Baggage), _outgoing, s_setter);
        return _outgoing.Count;
    }
}
