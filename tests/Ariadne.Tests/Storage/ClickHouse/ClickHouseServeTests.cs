using System.Diagnostics;
using System.Text.Json.Nodes;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Pipeline;
using Ariadne.Storage;
using Ariadne.Storage.ClickHouse;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Receivers.Otlp;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ariadne.Tests.Storage.ClickHouse;

/// <summary>The whole server started as `ariadne serve --storage clickhouse` does.</summary>
public sealed class ClickHouseServeTests(ClickHouseFixture fixture) : IClassFixture<ClickHouseFixture>
{
    [Fact]
    public async Task Serve_with_clickhouse_migrates_at_start_and_stores_what_the_pipeline_ingests()
    {
        var database = ClickHouseFixture.NewDatabase();
        await using var server = AriadneServer.Create(Options(fixture.Server.Url.ToString(), database), logging => logging.SetMinimumLevel(LogLevel.Warning));
        await server.StartAsync();

        var trace = TraceData.Checkout(5, DateTimeOffset.UtcNow.AddMinutes(-1));
        var batch = new SpanBatch();
        batch.Spans.AddRange(trace);
        var result = await server.Services.GetRequiredService<IngestPipeline>().IngestAsync("acme", "test", batch, default);

        Assert.Equal(4, result.AcceptedSpans);
        var store = Assert.IsType<ClickHouseSpanStore>(server.Services.GetRequiredService<ISpanStore>());
        await store.FlushAsync(default);
        Assert.Equal(TraceData.Describe(trace), TraceData.Describe(await store.GetTraceAsync("acme", trace[0].TraceId, default)));
        using var query = new HttpClient { BaseAddress = server.GetUri(Listener.Query) };
        Assert.Equal("Healthy", await query.GetStringAsync("/health/ready"));
    }

    [Fact]
    public async Task Spans_from_the_OpenTelemetry_SDK_over_otlp_come_back_through_the_jaeger_api()
    {
        await using var server = AriadneServer.Create(Options(fixture.Server.Url.ToString(), ClickHouseFixture.NewDatabase()), logging => logging.SetMinimumLevel(LogLevel.Warning));
        await server.StartAsync();
        using var source = new ActivitySource("Ariadne.Tests.ClickHouse");
        ActivityTraceId traceId;
        using (var tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("checkout"))
            .AddSource(source.Name)
            .AddOtlpExporter(otlp => OtlpReceiverTests.ConfigureExporter(otlp, OtlpExportProtocol.Grpc, server.GetUri(Listener.OtlpGrpc), server.GetUri(Listener.OtlpHttp), "/v1/traces", tenant: null))
            .Build())
        {
            using (var root = source.StartActivity("POST /checkout", ActivityKind.Server)!)
            {
                root.SetTag("order.id", "o-42");
                root.SetStatus(ActivityStatusCode.Error, "card declined");
                using (source.StartActivity("SELECT orders", ActivityKind.Client)!)
                {
                }

                traceId = root.TraceId;
            }

            Assert.True(tracing.ForceFlush());
        }

        // Acknowledged once in the WAL; queryable once drained into ClickHouse.
        await ((ClickHouseSpanStore)server.Services.GetRequiredService<ISpanStore>()).FlushAsync(default);
        using var query = new HttpClient { BaseAddress = server.GetUri(Listener.Query) };

        var byId = JsonNode.Parse(await query.GetStringAsync($"/api/traces/{traceId.ToHexString()}"))!;
        var services = JsonNode.Parse(await query.GetStringAsync("/api/services"))!;
        var search = JsonNode.Parse(await query.GetStringAsync("/api/traces?service=checkout&tags=%7B%22order.id%22%3A%22o-42%22%7D&lookback=1h"))!;

        Assert.Equal(["POST /checkout", "SELECT orders"], byId["data"]![0]!["spans"]!.AsArray().Select(s => s!["operationName"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(["checkout"], services["data"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(traceId.ToHexString(), search["data"]![0]!["traceID"]!.GetValue<string>());
    }

    [Fact]
    public async Task Serve_with_an_unreachable_clickhouse_fails_to_start_naming_the_url()
    {
        await using var server = AriadneServer.Create(Options("http://127.0.0.1:9", ClickHouseFixture.NewDatabase()), logging => logging.SetMinimumLevel(LogLevel.Critical));

        var error = await Assert.ThrowsAsync<ClickHouseException>(() => server.StartAsync());

        Assert.Contains("http://127.0.0.1:9/", error.Message, StringComparison.Ordinal);
        Assert.Contains("--clickhouse-url", error.Message, StringComparison.Ordinal);
    }

    private static AriadneOptions Options(string url, string database) => new()
    {
        ListenAddress = "127.0.0.1",
        DataDirectory = Directory.CreateTempSubdirectory("ariadne-test-").FullName,
        Ports = new PortOptions { OtlpGrpc = 0, OtlpHttp = 0, Zipkin = 0, Query = 0, Sampling = 0, JaegerThriftHttp = 0, JaegerGrpc = 0, JaegerCompact = 0, JaegerBinary = 0, Tempo = 0 },
        Storage = "clickhouse",
        ClickHouse = new ClickHouseOptions { Url = url, Database = database },
    };
}
