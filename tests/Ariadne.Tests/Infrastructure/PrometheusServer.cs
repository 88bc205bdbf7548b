using System.Globalization;
using System.Text.Json;

namespace Ariadne.Tests.Infrastructure;

/// <summary>
/// Debian's Prometheus (SERVICES.md section 4) on a free port with exemplar storage on, scraping the targets a test
/// names every second; its data in a temp directory.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly ExternalProcess _process;
    private readonly string _directory;

    private PrometheusServer(ExternalProcess process, string directory, Uri url)
    {
        _process = process;
        _directory = directory;
        Url = url;
    }

    public Uri Url { get; }

    public HttpClient Http { get; } = new();

    /// <summary>Starts Prometheus scraping <paramref name="target"/>'s <c>/metrics</c> as job <paramref name="job"/>.</summary>
    public static async Task<PrometheusServer> StartAsync(string job, Uri target)
    {
        const string binary = "/usr/bin/prometheus";
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException($"{binary} is missing: apt-get install -y prometheus (see scripts/test.sh).");
        }

        var directory = Directory.CreateTempSubdirectory("ariadne-prometheus-").FullName;
        var config = Path.Combine(directory, "prometheus.yml");
        File.WriteAllText(config, $$"""
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: {{job}}
                static_configs: [{targets: ['{{target.Authority}}']}]
            """);
        var port = FreePort.Next();
        var process = ExternalProcess.Start(binary,
        [
            "--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(directory, "data"),
            "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture), "--enable-feature=exemplar-storage",
        ]);
        var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{port}/"));
        await Poll.UntilAsync(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited while starting:{Environment.NewLine}{process.Output}");
            }

            try
            {
                using var ready = await server.Http.GetAsync(new Uri(server.Url, "-/ready"));
                return ready.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "prometheus to be ready");
        return server;
    }

    /// <summary>The value of each series an instant query returns, by the value of <paramref name="label"/>.</summary>
    public async Task<Dictionary<string, double>> QueryAsync(string promql, string label)
    {
        using var json = JsonDocument.Parse(await Http.GetStringAsync(new Uri(Url, "api/v1/query?query=" + Uri.EscapeDataString(promql))));
        return json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().ToDictionary(
            r => r.GetProperty("metric").TryGetProperty(label, out var value) ? value.GetString()! : "",
            r => double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture));
    }

    /// <summary>The trace ids of the exemplars stored for a selector over the last hour.</summary>
    public async Task<List<string>> ExemplarTraceIdsAsync(string selector)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var query = $"api/v1/query_exemplars?query={Uri.EscapeDataString(selector)}&start={now - 3600}&end={now + 60}";
        using var json = JsonDocument.Parse(await Http.GetStringAsync(new Uri(Url, query)));
        return json.RootElement.GetProperty("data").EnumerateArray()
            .SelectMany(series => series.GetProperty("exemplars").EnumerateArray())
            .Select(e => e.GetProperty("labels").TryGetProperty("trace_id", out var id) ? id.GetString()! : "")
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner.
        }
    }
}
