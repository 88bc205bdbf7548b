using Ariadne.Instrumentation;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Ariadne.Tests.Instrumentation;

/// <summary>Which OpenTelemetry signals the one-line setup turns on.</summary>
[Collection(SdkCollection.Name)]
public sealed class SdkSignalsTests
{
    [Fact]
    public void Traces_and_logs_are_exported_by_default_and_metrics_only_when_asked_for()
    {
        using (var defaults = Build(_ => { }))
        {
            Assert.NotNull(defaults.GetService<TracerProvider>());
            Assert.NotNull(defaults.GetService<LoggerProvider>());

            // Ariadne does not store metrics: recording them would cost every request for nothing.
            Assert.Null(defaults.GetService<MeterProvider>());
        }

        using var withMetrics = Build(options => options.ExportMetrics = true);
        Assert.NotNull(withMetrics.GetService<MeterProvider>());
    }

    private static ServiceProvider Build(Action<AriadneTracingOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAriadneTracing("signals-under-test", options =>
        {
            options.OtlpEndpoint = BusinessContextTests.ClosedPortUri();
            configure(options);
        });
        return services.BuildServiceProvider();
    }
}
