using System.Diagnostics;
using Ariadne.Instrumentation.Context;
using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Ariadne.Sdk.Benchmarks;

/// <summary>
/// The cost of one recorded span through the OpenTelemetry SDK as Ariadne.Instrumentation configures it (always-on sampler,
/// batch export processor with an exporter that drops), with and without business context. OpenTelemetry .NET's
/// own figure for a plain recorded span is ~300 ns and ~430 B.
/// </summary>
[MemoryDiagnoser]
public class SpanCreationBenchmarks
{
    private readonly ActivitySource _source = new("Ariadne.Sdk.Benchmarks");
    private TracerProvider _provider = null!;

    [GlobalSetup]
    public void Setup()
    {
        AriadneContext.Policy = BusinessContextPolicy.Default;
        _provider = OpenTelemetry.Sdk.CreateTracerProviderBuilder()
            .AddSource("Ariadne.Sdk.Benchmarks")
            .SetSampler(new ParentBasedSampler(new AlwaysOnSampler()))
            .AddProcessor(new BusinessContextProcessor())
            .AddProcessor(new BatchActivityExportProcessor(new DroppingExporter()))
            .Build()!;
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    /// <summary>A span with two tags, no business context: the OpenTelemetry baseline.</summary>
    [Benchmark(Baseline = true)]
    public void PlainSpan()
    {
        Baggage.Current = default;
        using var activity = _source.StartActivity("GET /products");
        activity?.SetTag("http.request.method", "GET");
        activity?.SetTag("http.response.status_code", 200);
    }

    /// <summary>A downstream span: user, session and order arrive as baggage and the processor copies them on.</summary>
    [Benchmark]
    public void SpanInheritingBusinessContext()
    {
        Baggage.Current = s_incoming;
        using var activity = _source.StartActivity("GET /products");
        activity?.SetTag("http.request.method", "GET");
        activity?.SetTag("http.response.status_code", 200);
    }

    /// <summary>The span that sets the context: SetUser/SetSession/SetOrder tag it and put the ids in baggage.</summary>
    [Benchmark]
    public void SpanSettingBusinessContext()
    {
        Baggage.Current = default;
        using var activity = _source.StartActivity("POST /checkout");
        activity?.SetTag("http.request.method", "POST");
        AriadneContext.SetUser("user-1234");
        AriadneContext.SetSession("sess-0042");
        AriadneContext.SetOrder("ord-5be5f72835ae");
    }

    /// <summary>The same span setting the three ids in one call, which copies the baggage once instead of three times.</summary>
    [Benchmark]
    public void SpanSettingBusinessContextAtOnce()
    {
        Baggage.Current = default;
        using var activity = _source.StartActivity("POST /checkout");
        activity?.SetTag("http.request.method", "POST");
        AriadneContext.Set([
            new(AriadneContext.UserIdKey, "user-1234"),
            new(AriadneContext.SessionIdKey, "sess-0042"),
            new(AriadneContext.OrderIdKey, "ord-5be5f72835ae"),
        ]);
    }

    private static readonly Baggage s_incoming = Baggage.Create(new Dictionary<string, string>
    {
        ["user.id"] = "user-1234",
        ["session.id"] = "sess-0042",
        ["order.id"] = "ord-5be5f72835ae",
    });

    private sealed class DroppingExporter : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch) => ExportResult.Success;
    }
}
