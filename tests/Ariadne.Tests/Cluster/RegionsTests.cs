using System.Text.Json.Nodes;
using Ariadne.Query.Regions;
using Ariadne.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Ariadne.Tests.Cluster;

/// <summary>
/// Issue 14's regions test: two regions on this machine, each one real `ariadne serve` node with its own ClickHouse
/// server (the cluster fixture's two servers, used here as two standalone stores, no Distributed table between them),
/// each told the other's query port (`--region`, `--region-peers`). A trace whose spans went half to each region is
/// read whole from either; with one region stopped, the other answers with its half and says so (Jaeger API and UI).
/// </summary>
public sealed class RegionsTests(ClickHouseClusterFixture clickHouse, ITestOutputHelper output) : IClassFixture<ClickHouseClusterFixture>
{
    [Fact]
    public async Task A_trace_split_over_two_regions_is_read_whole_from_either_and_in_part_marked_partial_when_one_is_down()
    {
        var root = Directory.CreateTempSubdirectory("ariadne-regions-").FullName;
        var ports = new[] { FreePort.Next(), FreePort.Next() };
        string[] names = ["us", "eu"];
        var regions = new ServerProcess?[2];
        try
        {
            // Both regions start at once: each only needs the other when a read asks it.
            var started = Enumerable.Range(0, 2).Select(r => ServerProcess.StartAsync(
                Directory.CreateDirectory(Path.Combine(root, names[r])).FullName,
                $"export ARIADNE__ClickHouse__Database={ClickHouseFixture.NewDatabase()};",
                $"--storage clickhouse --clickhouse-url {clickHouse.Servers[r].Url} --region {names[r]} --region-peers {names[1 - r]}=http://127.0.0.1:{ports[1 - r]}",
                queryPort: ports[r])).ToList();
            for (var r = 0; r < 2; r++)
            {
                regions[r] = await started[r];
            }

            var us = regions[0]!;
            var eu = regions[1]!;
            using var client = new SpreadingClient([() => us.OtlpHttp, () => eu.OtlpHttp]);
            var trace = SpreadingClient.Trace("gold");
            var id = trace[0].TraceId.ToHex();
            Assert.True(await client.SendAsync(trace, rotation: 0, CancellationToken.None), "the trace's two halves were not acknowledged");

            // Span i went to region i mod 2: frontend, service-3 and service-5 to us; service-2, -4 and -6 to eu.
            await Poll.UntilAsync(async () => (await ReadAsync(us, $"/api/traces/{id}", local: true)).Spans == 3
                && (await ReadAsync(eu, $"/api/traces/{id}", local: true)).Spans == 3,
                "each region stores its half (read without federation)", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));

            var window = $"start={DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeMilliseconds() * 1000}&end={DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds() * 1000}";
            foreach (var (region, name) in new[] { (us, "us"), (eu, "eu") })
            {
                var byId = await ReadAsync(region, $"/api/traces/{id}");
                Assert.True(byId is { Spans: 6, Errors: null }, $"by id from {name}: {byId}");

                // Each service is in one region only: a search for it from the other still finds the whole trace.
                foreach (var service in new[] { "frontend", "service-2" })
                {
                    var found = await ReadAsync(region, $"/api/traces?service={service}&{window}");
                    Assert.True(found is { Traces: 1, Spans: 6, Errors: null }, $"search for {service} from {name}: {found}");
                }
            }

            // The tenant goes on to the other region: another tenant finds nothing there either.
            var otherTenant = await ReadAsync(us, $"/api/traces/{id}", tenant: "someone-else");
            Assert.True(otherTenant is { Spans: 0 }, $"another tenant's read: {otherTenant}");

            await eu.DisposeAsync();
            regions[1] = null;
            var partial = await ReadAsync(us, $"/api/traces/{id}");
            Assert.True(partial.Spans == 3 && partial.Errors is { } error && error.Contains("region eu unreachable", StringComparison.Ordinal)
                && error.Contains("results may be partial", StringComparison.Ordinal), $"by id with eu down: {partial}");
            var partialSearch = await ReadAsync(us, $"/api/traces?service=frontend&{window}");
            Assert.True(partialSearch is { Traces: 1, Spans: 3, Errors: not null }, $"search with eu down: {partialSearch}");
            output.WriteLine($"with eu down: {partial.Errors}");

            // The UI's trace and search pages (their server-rendered HTML) show the warning above what they found.
            using var ui = new HttpClient { BaseAddress = us.Query };
            foreach (var page in new[] { $"/trace/{id}", "/search?service=frontend&lookback=1h" })
            {
                var html = await ui.GetStringAsync(page);
                Assert.True(html.Contains("region eu unreachable", StringComparison.Ordinal), $"{page} shows no warning for eu:{Environment.NewLine}{html}");
            }
        }
        finally
        {
            foreach (var region in regions)
            {
                if (region is not null)
                {
                    output.WriteLine(region.Output);
                    await region.DisposeAsync();
                }
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private sealed record Answer(int Status, int Traces, int Spans, string? Errors);

    /// <summary>A Jaeger API read: traces and spans in <c>data</c>, and the <c>errors</c> messages joined (null when none).</summary>
    private static async Task<Answer> ReadAsync(ServerProcess node, string path, bool local = false, string? tenant = null)
    {
        using var http = new HttpClient { BaseAddress = node.Query };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (local)
        {
            request.Headers.Add(RegionFederation.HopHeader, "test");
        }

        if (tenant is not null)
        {
            request.Headers.Add("x-tenant", tenant);
        }

        using var response = await http.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var data = body["data"] as JsonArray ?? [];
        var errors = body["errors"] is JsonArray list ? string.Join(" | ", list.Select(e => (string?)e!["msg"])) : null;
        return new Answer((int)response.StatusCode, data.Count, data.Sum(t => t!["spans"]!.AsArray().Count), errors);
    }
}
