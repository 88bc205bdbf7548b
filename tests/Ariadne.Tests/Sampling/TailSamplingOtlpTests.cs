using System.Diagnostics;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Receivers.Otlp;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ariadne.Tests.Sampling;

public sealed class TailSamplingOtlpTests(TailServerFixture fixture) : IClassFixture<TailServerFixture>
{
    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task Traces_from_the_OpenTelemetry_SDK_are_tail_sampled_end_to_end(OtlpExportProtocol protocol)
    {
        var tenant = $"otlp-{protocol}".ToLowerInvariant();
        using var source = new ActivitySource($"Ariadne.Tests.Tail.{protocol}");
        ActivityTraceId failed, paid, plain;
        using (var tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("shop"))
            .AddSource(source.Name)
            .AddOtlpExporter(otlp => OtlpReceiverTests.ConfigureExporter(
                otlp, protocol, fixture.Server.GetUri(Listener.OtlpGrpc), fixture.Server.GetUri(Listener.OtlpHttp), "/v1/traces", tenant))
            .Build())
        {
            using (var root = source.StartActivity("GET /cart", ActivityKind.Server)!)
            {
                failed = root.TraceId;
                using var child = source.StartActivity("SELECT cart", ActivityKind.Client)!;
                child.SetStatus(ActivityStatusCode.Error, "timeout");
            }

            using (var root = source.StartActivity("POST /pay", ActivityKind.Server)!)
            {
                paid = root.TraceId;
                root.SetTag("payment.id", "pay-42");
            }

            using (var root = source.StartActivity("GET /", ActivityKind.Server)!)
            {
                plain = root.TraceId;
            }

            Assert.True(tracing.ForceFlush());
        }

        await Poll.UntilAsync(async () => await fixture.StoredSpansAsync(tenant, Id(failed)) == 2, "the trace with an error span");
        await Poll.UntilAsync(async () => await fixture.StoredSpansAsync(tenant, Id(paid)) == 1, "the trace with a payment id");
        await Poll.UntilAsync(() => fixture.Sampler.BufferedTraces == 0, "every trace to be decided");
        Assert.Equal(0, await fixture.StoredSpansAsync(tenant, Id(plain)));
    }

    private static TraceId Id(ActivityTraceId id) => TraceId.TryParseHex(id.ToHexString(), out var parsed) ? parsed : default;
}
