using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Cluster;

/// <summary>
/// Three real `ariadne serve` processes in cluster mode (`--cluster-peers`, each on its own free internal port),
/// sharing one ClickHouse database over the fixture's two shards, each with its own data directory (ingest log).
/// A node can be killed (SIGKILL) and started again on its directory.
/// </summary>
internal sealed class ClusterNodes : IAsyncDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ariadne-cluster-").FullName;
    private readonly string _setup;
    private readonly int[] _internalPorts;
    private readonly ServerProcess?[] _nodes;

    private ClusterNodes(ClickHouseClusterFixture clickHouse, int count, string environment)
    {
        _internalPorts = Enumerable.Range(0, count).Select(_ => FreePort.Next()).ToArray();
        _nodes = new ServerProcess?[count];
        _setup = $"export ARIADNE__ClickHouse__Database={ClickHouseFixture.NewDatabase()} ARIADNE__ClickHouse__MinutesInterval=00:00:01 {environment};";
        Arguments = $"--storage clickhouse --clickhouse-url {clickHouse.Url} --clickhouse-cluster {ClickHouseClusterFixture.Cluster} " +
            $"--cluster-peers {string.Join(",", _internalPorts.Select(p => $"127.0.0.1:{p}"))}";
    }

    public string Arguments { get; }

    public int Count => _nodes.Length;

    public ServerProcess this[int node] => _nodes[node] ?? throw new InvalidOperationException($"node {node} is not running");

    /// <param name="environment">More `export` assignments for every node (tail policies).</param>
    public static async Task<ClusterNodes> StartAsync(ClickHouseClusterFixture clickHouse, string environment = "", int count = 3)
    {
        var nodes = new ClusterNodes(clickHouse, count, environment);
        try
        {
            // The first node creates the tables; the others then find them.
            await nodes.StartAsync(0);
            await Task.WhenAll(Enumerable.Range(1, count - 1).Select(nodes.StartAsync));
            return nodes;
        }
        catch
        {
            await nodes.DisposeAsync();
            throw;
        }
    }

    public async Task StartAsync(int node)
    {
        var data = Directory.CreateDirectory(Path.Combine(_root, $"node{node}")).FullName;
        _nodes[node] = await ServerProcess.StartAsync(data, _setup,
            $"{Arguments} --cluster-self 127.0.0.1:{_internalPorts[node]} --cluster-port {_internalPorts[node]}");
    }

    public async Task KillAsync(int node)
    {
        await this[node].KillAsync();
        await this[node].DisposeAsync();
        _nodes[node] = null;
    }

    public IEnumerable<int> Running => Enumerable.Range(0, Count).Where(n => _nodes[n] is not null);

    /// <summary>Spans of the trace that a node's Jaeger API serves; 0 when it is not found.</summary>
    public async Task<int> ServedSpansAsync(int node, string traceId)
    {
        using var query = new HttpClient { BaseAddress = this[node].Query };
        using var response = await query.GetAsync($"/api/traces/{traceId}");
        return response.StatusCode == HttpStatusCode.OK
            ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]![0]!["spans"]!.AsArray().Count
            : 0;
    }

    /// <summary>A node's /api/dependencies for the last hour, as "parent>child:calls" sorted and comma-separated.</summary>
    public async Task<string> DependenciesAsync(int node)
    {
        using var query = new HttpClient { BaseAddress = this[node].Query };
        var end = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds();
        var links = JsonNode.Parse(await query.GetStringAsync($"/api/dependencies?endTs={end}&lookback=3600000"))!["data"]!.AsArray();
        return string.Join(",", links.Select(l => $"{l!["parent"]}>{l["child"]}:{l["callCount"]}").Order(StringComparer.Ordinal));
    }

    /// <summary>A node's RED of an operation over the last 10 minutes (/api/ariadne/services/{service}/operations): calls and errors; (0, 0) when it has none.</summary>
    public async Task<(long Calls, long Errors)> RedAsync(int node, string service, string operation)
    {
        using var query = new HttpClient { BaseAddress = this[node].Query };
        var operations = JsonNode.Parse(await query.GetStringAsync($"/api/ariadne/services/{Uri.EscapeDataString(service)}/operations?lookback=10m"))!["operations"]!.AsArray();
        return operations.FirstOrDefault(o => (string?)o!["operation"] == operation) is { } found
            ? ((long)found["count"]!, (long)found["errors"]!)
            : (0, 0);
    }

    /// <summary>How many log records a node serves with a trace (/api/ariadne/traces/{id}/logs); 0 when none.</summary>
    public async Task<int> TraceLogsAsync(int node, string traceId)
    {
        using var query = new HttpClient { BaseAddress = this[node].Query };
        using var response = await query.GetAsync($"/api/ariadne/traces/{traceId}/logs");
        return response.StatusCode == HttpStatusCode.OK ? (int)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["total"]! : 0;
    }

    /// <summary>The state of a node's alert rule (/api/ariadne/alerts): inactive, pending, firing or resolved.</summary>
    public async Task<string> AlertStateAsync(int node, string rule)
    {
        using var query = new HttpClient { BaseAddress = this[node].Query };
        var rules = JsonNode.Parse(await query.GetStringAsync("/api/ariadne/alerts"))!["rules"]!.AsArray();
        return (string)rules.Single(r => (string?)r!["name"] == rule)!["state"]!;
    }

    /// <summary>The sum of a counter's series on a node's /metrics.</summary>
    public async Task<double> CounterAsync(int node, string name)
    {
        using var query = new HttpClient { BaseAddress = this[node].Query };
        var text = await query.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(line => line.StartsWith(name, StringComparison.Ordinal) && (line.Length == name.Length || line[name.Length] is '{' or ' '))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    public string Output => string.Join(Environment.NewLine, Running.Select(n => $"--- node {n}:{Environment.NewLine}{this[n].Output}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A killed node's files may still be closing; the OS temp cleaner takes them later.
        }
    }
}
