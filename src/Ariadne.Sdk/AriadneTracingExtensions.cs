using System.Diagnostics;
using System.Reflection;
using Ariadne.Instrumentation.Context;
using Ariadne.Instrumentation.Sampling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ariadne.Instrumentation;

public static class AriadneTracingExtensions
{
    /// <summary>
    /// Traces and logs of this service to Ariadne over OTLP, in one line (metrics too, with
    /// <see cref="AriadneTracingOptions.ExportMetrics"/>): resource, exporter,
    /// ASP.NET Core / HttpClient / gRPC client instrumentation, SDK database and messaging spans, business context
    /// propagation, log correlation and sampling.
    /// </summary>
    public static TBuilder AddAriadneTracing<TBuilder>(this TBuilder builder, string serviceName, Action<AriadneTracingOptions>? configure = null)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddAriadneTracing(serviceName, options =>
        {
            options.Environment = builder.Environment.EnvironmentName;
            configure?.Invoke(options);
        });
        return builder;
    }

    /// <inheritdoc cref="AddAriadneTracing{TBuilder}"/>
    public static IServiceCollection AddAriadneTracing(this IServiceCollection services, string serviceName, Action<AriadneTracingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        var options = new AriadneTracingOptions();
        configure?.Invoke(options);

        // OTEL_SERVICE_NAME wins over the code, as the OpenTelemetry specification asks.
        serviceName = System.Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") is { Length: > 0 } fromEnvironment ? fromEnvironment : serviceName;
        AriadneContext.Policy = new BusinessContextPolicy(options.BusinessContext);

        // Only allowlisted baggage crosses a process boundary, whichever instrumentation injects or extracts it.
        OpenTelemetry.Sdk.SetDefaultTextMapPropagator(new CompositeTextMapPropagator([new TraceContextPropagator(), new AllowlistBaggagePropagator()]));

        // Trace and span ids in every ILogger scope, so console and file logs correlate too.
        services.Configure<LoggerFactoryOptions>(o => o.ActivityTrackingOptions |= ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        if (IsDisabled())
        {
            return services;
        }

        services.AddSingleton<SamplerOwner>();
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(serviceName, serviceVersion: options.ServiceVersion ?? EntryVersion(), serviceInstanceId: $"{System.Environment.MachineName}-{System.Environment.ProcessId}")
                .AddAttributes(
                [
                    new("deployment.environment.name", options.Environment ?? System.Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? "Production"),
                    new("host.name", System.Environment.MachineName),
                ])
                .AddEnvironmentVariableDetector());

        telemetry.WithTracing(tracing =>
        {
            tracing
                .SetSampler(sp => new ParentBasedSampler(options.Sampler ?? sp.GetRequiredService<SamplerOwner>().Own(SamplerFromEnvironment(sp, serviceName))))
                .AddSource(AriadneTelemetry.SourceName)
                .AddSource([.. options.Sources])
                .AddProcessor(new BusinessContextProcessor())
                .AddAspNetCoreInstrumentation(o => o.RecordException = true)
                .AddHttpClientInstrumentation(o => o.RecordException = true)
                // One client span per gRPC call (with rpc.* attributes), not a gRPC span plus an HTTP/2 span under it.
                .AddGrpcClientInstrumentation(o => o.SuppressDownstreamInstrumentation = true)
                .AddOtlpExporter(o => ConfigureExporter(o, options));
            options.ConfigureTracing?.Invoke(tracing);
        });

        if (options.ExportMetrics)
        {
            telemetry.WithMetrics(metrics => metrics
                .AddRuntimeInstrumentation()
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddOtlpExporter(o => ConfigureExporter(o, options)));
        }

        if (options.ExportLogs)
        {
            telemetry.WithLogging(logging => logging.AddOtlpExporter(o => ConfigureExporter(o, options)), logger =>
            {
                logger.IncludeScopes = true;
                logger.IncludeFormattedMessage = true;
            });
        }

        return services;
    }

    /// <summary>OTEL_SDK_DISABLED=true: propagation and business context keep working, nothing is recorded or exported.</summary>
    private static bool IsDisabled() =>
        string.Equals(System.Environment.GetEnvironmentVariable("OTEL_SDK_DISABLED"), "true", StringComparison.OrdinalIgnoreCase);

    private static void ConfigureExporter(OtlpExporterOptions exporter, AriadneTracingOptions options)
    {
        if (options.OtlpEndpoint is not null)
        {
            exporter.Endpoint = options.OtlpEndpoint;
        }

        // Spans are batched in a bounded queue (2048 by default, OTEL_BSP_* to change it): when Ariadne is down the
        // exporter drops, it never blocks or throws into request handling.
        exporter.ExportProcessorType = ExportProcessorType.Batch;
    }

    internal static Sampler SamplerFromEnvironment(IServiceProvider services, string serviceName)
    {
        var configuration = services.GetService<IConfiguration>();
        var name = (configuration?["OTEL_TRACES_SAMPLER"] ?? System.Environment.GetEnvironmentVariable("OTEL_TRACES_SAMPLER") ?? "parentbased_always_on").Trim();
        var argument = configuration?["OTEL_TRACES_SAMPLER_ARG"] ?? System.Environment.GetEnvironmentVariable("OTEL_TRACES_SAMPLER_ARG");

        // Every sampler here is wrapped parent-based by the caller, so the parentbased_ prefix adds nothing.
        var root = name.StartsWith("parentbased_", StringComparison.Ordinal) ? name["parentbased_".Length..] : name;
        return root switch
        {
            "always_on" => new AlwaysOnSampler(),
            "always_off" => new AlwaysOffSampler(),
            "traceidratio" => new TraceIdRatioBasedSampler(
                double.TryParse(argument, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ratio) ? ratio : 1.0),
            "jaeger_remote" => new JaegerRemoteSampler(
                serviceName,
                JaegerRemoteSamplerOptions.FromSamplerArgument(argument),
                logger: services.GetService<ILoggerFactory>()?.CreateLogger<JaegerRemoteSampler>()),
            _ => throw new InvalidOperationException(
                $"OTEL_TRACES_SAMPLER '{name}' is not supported; use always_on, always_off, traceidratio or jaeger_remote (optionally parentbased_…)."),
        };
    }

    private static string? EntryVersion() =>
        Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

    /// <summary>
    /// The tracer provider does not dispose its sampler; the container disposes this, which stops a remote
    /// sampler's polling with the application.
    /// </summary>
    private sealed class SamplerOwner : IDisposable
    {
        private Sampler? _owned;

        public Sampler Own(Sampler sampler)
        {
            _owned = sampler;
            return sampler;
        }

        public void Dispose() => (_owned as IDisposable)?.Dispose();
    }
}
