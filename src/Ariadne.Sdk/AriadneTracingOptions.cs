using Ariadne.Instrumentation.Context;
using OpenTelemetry.Trace;

namespace Ariadne.Instrumentation;

/// <summary>
/// What <c>AddAriadneTracing</c> sets up. Everything has a production-safe default; the standard <c>OTEL_*</c>
/// environment variables (exporter endpoint, protocol, headers, batch sizes, sampler) apply unless a property
/// here overrides them.
/// </summary>
public sealed class AriadneTracingOptions
{
    public string? ServiceVersion { get; set; }

    /// <summary><c>deployment.environment.name</c>; defaults to the host environment (Development, Production…).</summary>
    public string? Environment { get; set; }

    /// <summary>
    /// OTLP endpoint (gRPC, e.g. http://localhost:4317). Null: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, else the OTLP default.
    /// </summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>
    /// The root sampler, wrapped parent-based. Null: from <c>OTEL_TRACES_SAMPLER</c>/<c>OTEL_TRACES_SAMPLER_ARG</c>
    /// (<c>always_on</c>, <c>always_off</c>, <c>traceidratio</c>, <c>jaeger_remote</c> and their
    /// <c>parentbased_</c> forms), else always on.
    /// </summary>
    public Sampler? Sampler { get; set; }

    public BusinessContextOptions BusinessContext { get; } = new();

    /// <summary>Also export ILogger records over OTLP (they carry trace and span ids).</summary>
    public bool ExportLogs { get; set; } = true;

    /// <summary>
    /// Also export runtime, ASP.NET Core and HttpClient metrics over OTLP. Off by default: Ariadne accepts OTLP
    /// metrics but does not store them, and recording them costs every request (a measurement per instrument per
    /// request and hop, in the profile of the demo shop the largest share of the SDK's per-request CPU after the
    /// spans themselves; docs/PERFORMANCE.md, session 8). Turn it on when the endpoint is a collector that forwards
    /// metrics to a metrics store.
    /// </summary>
    public bool ExportMetrics { get; set; }

    /// <summary>The application's own <see cref="System.Diagnostics.ActivitySource"/> names to record.</summary>
    public IList<string> Sources { get; } = [];

    /// <summary>Last word on the tracer provider: add processors, instrumentations, exporters.</summary>
    public Action<TracerProviderBuilder>? ConfigureTracing { get; set; }
}
