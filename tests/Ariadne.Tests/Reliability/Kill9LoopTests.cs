using System.Net;
using System.Text.Json.Nodes;
using Ariadne.LoadGen;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Reliability;

/// <summary>
/// The CI-sized form of bench/kill9-loop.sh: the real `ariadne serve` (embedded engine) with tail policies, the
/// load generator writing each acknowledged trace to a file, SIGKILL, a restart on the same directory, three rounds.
/// The "gold" policy keeps every trace with customer.tier=gold, so each acknowledged gold trace must be served
/// whole after every restart; the 10% policy decides the rest, which may be kept or dropped but never served in part.
/// </summary>
public sealed class Kill9LoopTests : IDisposable
{
    private const int Rounds = 3;

    private const string Policies =
        "export ARIADNE__Sampling__Tail__DecisionWait=00:00:01 " +
        "ARIADNE__Sampling__Tail__Policies__0__Name=gold ARIADNE__Sampling__Tail__Policies__0__Type=string_attribute " +
        "ARIADNE__Sampling__Tail__Policies__0__String_Attribute__Key=customer.tier ARIADNE__Sampling__Tail__Policies__0__String_Attribute__Values__0=gold " +
        "ARIADNE__Sampling__Tail__Policies__1__Name=rest ARIADNE__Sampling__Tail__Policies__1__Type=probabilistic " +
        "ARIADNE__Sampling__Tail__Policies__1__Probabilistic__Sampling_Percentage=10;";

    private readonly string _root = Directory.CreateTempSubdirectory("ariadne-kill9-").FullName;

    [Fact]
    public async Task Three_kill_9_rounds_under_load_with_tail_policies_lose_no_acknowledged_trace_a_policy_must_keep()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        var acknowledged = new List<(string Id, int Spans, string Tier)>();
        var server = await ServerProcess.StartAsync(data, Policies);
        try
        {
            for (var round = 1; round <= Rounds; round++)
            {
                var file = Path.Combine(_root, $"acknowledged-{round}.txt");
                using var stop = new CancellationTokenSource();
                var generator = new LoadGenerator(new LoadGenOptions
                {
                    Target = server.OtlpGrpc,
                    Rate = 5000,
                    Connections = 2,
                    SpansPerRequest = 100,
                    Seed = round,
                    AcknowledgedFile = file,
                });
                var load = generator.RunAsync(null, stop.Token);

                // A different moment each round: after 100, 200, 300 acknowledged traces.
                await Poll.UntilAsync(() => Task.FromResult(Read(file).Count >= 100 * round), $"round {round}: acknowledged traces", TimeSpan.FromMinutes(1));
                await server.KillAsync();
                await stop.CancelAsync();
                await load;
                acknowledged.AddRange(Read(file));

                await server.DisposeAsync();
                server = await ServerProcess.StartAsync(data, Policies);
                await AssertServedAsync(server, acknowledged, round);
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Every gold trace acknowledged so far is whole (held ones are decided a second after the restart); no other is served in part.</summary>
    private static async Task AssertServedAsync(ServerProcess server, List<(string Id, int Spans, string Tier)> acknowledged, int round)
    {
        using var query = new HttpClient { BaseAddress = server.Query };
        var gold = acknowledged.Where(t => t.Tier == "gold").ToList();
        Assert.NotEmpty(gold);
        var problems = new List<string>();
        foreach (var (id, spans, _) in gold)
        {
            var served = 0;
            try
            {
                await Poll.UntilAsync(async () => (served = await ServedAsync(query, id)) >= spans, timeout: TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                // Reported below with the count it reached.
            }

            if (served != spans)
            {
                problems.Add($"gold trace {id}: {served} of {spans} spans");
            }
        }

        foreach (var (id, spans, tier) in acknowledged.Where(t => t.Tier != "gold").Take(200))
        {
            var served = await ServedAsync(query, id);
            if (served != 0 && served != spans)
            {
                problems.Add($"{tier} trace {id}: {served} of {spans} spans");
            }
        }

        Assert.True(problems.Count == 0,
            $"after kill -9 number {round}, of {acknowledged.Count} acknowledged traces ({gold.Count} gold): {string.Join("; ", problems.Take(10))}{Environment.NewLine}{server.Output}");
    }

    private static async Task<int> ServedAsync(HttpClient query, string id)
    {
        using var response = await query.GetAsync($"/api/traces/{id}");
        return response.StatusCode == HttpStatusCode.OK
            ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]![0]!["spans"]!.AsArray().Count
            : 0;
    }

    /// <summary>The load generator's --acknowledged lines so far (it appends while this reads).</summary>
    private static List<(string Id, int Spans, string Tier)> Read(string file)
    {
        if (!File.Exists(file))
        {
            return [];
        }

        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var traces = new List<(string, int, string)>();
        while (reader.ReadLine() is { } line)
        {
            var parts = line.Split(' ');
            if (parts.Length == 3)
            {
                traces.Add((parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), parts[2]));
            }
        }

        return traces;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A killed server's files may still be closing; the OS temp cleaner takes them later.
        }
    }
}
