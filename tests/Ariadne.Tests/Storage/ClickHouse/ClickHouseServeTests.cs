using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Pipeline;
using Ariadne.Storage;
using Ariadne.Storage.ClickHouse;
using Ariadne.Tests.Infrastructure;

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
    public async Task Jaeger_api_reads_traces_services_and_search_results_from_clickhouse()
    {
        await using var server = AriadneServer.Create(Options(fixture.Server.Url.ToString(), ClickHouseFixture.NewDatabase()), logging => logging.SetMinimumLevel(LogLevel.Warning));
        await server.StartAsync();
        var trace = TraceData.Checkout(6, DateTimeOffset.UtcNow.AddMinutes(-2), fail: true);
        var batch = new SpanBatch();
        batch.Spans.AddRange(trace);
        await server.Services.GetRequiredService<IngestPipeline>().IngestAsync("default", "test", batch, default);
        await ((ClickHouseSpanStore)server.Services.GetRequiredService<ISpanStore>()).FlushAsync(default);
        using var query = new HttpClient { BaseAddress = server.GetUri(Listener.Query) };

        var byId = System.Text.Json.Nodes.JsonNode.Parse(await query.GetStringAsync($"/api/traces/{trace[0].TraceId.ToHex()}"))!;
        var services = System.Text.Json.Nodes.JsonNode.Parse(await query.GetStringAsync("/api/services"))!;
        var search = System.Text.Json.Nodes.JsonNode.Parse(await query.GetStringAsync("/api/traces?service=payments&tags=%7B%22error%22%3A%22true%22%7D&lookback=1h"))!;

        Assert.Equal(4, byId["data"]![0]!["spans"]!.AsArray().Count);
        Assert.Equal(["gateway", "orders", "payments"], services["data"]!.AsArray().Select(s => s!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(trace[0].TraceId.ToHex(), search["data"]![0]!["traceID"]!.GetValue<string>());
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
        Ports = new PortOptions { OtlpGrpc = 0, OtlpHttp = 0, Zipkin = 0, Query = 0, Sampling = 0 },
        Storage = "clickhouse",
        ClickHouse = new ClickHouseOptions { Url = url, Database = database },
    };
}
