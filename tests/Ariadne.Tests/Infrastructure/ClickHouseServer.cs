using System.Diagnostics;

namespace Ariadne.Tests.Infrastructure;

/// <summary>
/// A real clickhouse-server (SERVICES.md section 1) on free loopback ports with its data in a temp directory.
/// It can be stopped and started again on the same ports and data, for outage tests.
/// </summary>
public sealed class ClickHouseServer : IAsyncDisposable
{
    private const string Binary = "/usr/sbin/clickhouse-server";
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly string _directory;
    private Process? _process;

    private ClickHouseServer(string directory, int httpPort, int tcpPort)
    {
        _directory = directory;
        HttpPort = httpPort;
        TcpPort = tcpPort;
    }

    public int HttpPort { get; }

    public int TcpPort { get; }

    public Uri Url => new($"http://127.0.0.1:{HttpPort}/");

    /// <summary>Reserves ports for <paramref name="count"/> servers, writes their configs (naming all of them as the
    /// shards of cluster <c>test_cluster</c>) and starts them.</summary>
    public static async Task<IReadOnlyList<ClickHouseServer>> StartAsync(int count = 1)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: apt-get install -y clickhouse-server clickhouse-client (see scripts/test.sh).");
        }

        var servers = new List<ClickHouseServer>();
        for (var i = 0; i < count; i++)
        {
            servers.Add(new ClickHouseServer(Directory.CreateTempSubdirectory("ariadne-ch-").FullName, FreePort.Next(), FreePort.Next()));
        }

        var shards = string.Concat(servers.Select(s => $"<shard><replica><host>127.0.0.1</host><port>{s.TcpPort}</port></replica></shard>"));
        foreach (var server in servers)
        {
            server.WriteConfig(shards);
            await server.StartAsync();
        }

        return servers;
    }

    public async Task StartAsync()
    {
        var config = Path.Combine(_directory, "config.xml");
        var start = new ProcessStartInfo(Binary, ["--config-file=" + config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _directory,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (_process.HasExited)
            {
                break;
            }

            try
            {
                using var response = await s_http.GetAsync(new Uri(Url, "ping"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(50);
        }

        var log = Path.Combine(_directory, "log", "err.log");
        throw new InvalidOperationException($"clickhouse-server on :{HttpPort} did not answer /ping: {(File.Exists(log) ? File.ReadAllText(log) : "no log")}");
    }

    /// <summary>SIGTERM, then waits for the process to exit (a clean shutdown, ~2 s).</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner.
        }
    }

    private void WriteConfig(string shards)
    {
        foreach (var sub in new[] { "data", "tmp", "log", "user_files" })
        {
            Directory.CreateDirectory(Path.Combine(_directory, sub));
        }

        File.WriteAllText(Path.Combine(_directory, "config.xml"), $"""
            <?xml version="1.0"?>
            <yandex>
              <logger><level>warning</level><log>{_directory}/log/server.log</log><errorlog>{_directory}/log/err.log</errorlog><size>10M</size><count>1</count></logger>
              <listen_host>127.0.0.1</listen_host>
              <http_port>{HttpPort}</http_port>
              <tcp_port>{TcpPort}</tcp_port>
              <path>{_directory}/data/</path>
              <tmp_path>{_directory}/tmp/</tmp_path>
              <user_files_path>{_directory}/user_files/</user_files_path>
              <users_config>/etc/clickhouse-server/users.xml</users_config>
              <default_profile>default</default_profile>
              <default_database>default</default_database>
              <mark_cache_size>104857600</mark_cache_size>
              <uncompressed_cache_size>104857600</uncompressed_cache_size>
              <timezone>UTC</timezone>
              <remote_servers><test_cluster>{shards}</test_cluster></remote_servers>
            </yandex>
            """);
    }
}

/// <summary>One ClickHouse node shared by a test class; each test takes its own database.</summary>
public sealed class ClickHouseFixture : IAsyncLifetime
{
    public ClickHouseServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = (await ClickHouseServer.StartAsync(1))[0];

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public static string NewDatabase() => "t_" + Guid.NewGuid().ToString("N")[..16];
}

/// <summary>Two ClickHouse nodes, the two shards of cluster <c>test_cluster</c>.</summary>
public sealed class ClickHouseClusterFixture : IAsyncLifetime
{
    public const string Cluster = "test_cluster";

    public IReadOnlyList<ClickHouseServer> Servers { get; private set; } = [];

    public string Url => string.Join(",", Servers.Select(s => s.Url.ToString().TrimEnd('/')));

    public async Task InitializeAsync() => Servers = await ClickHouseServer.StartAsync(2);

    public async Task DisposeAsync()
    {
        foreach (var server in Servers)
        {
            await server.DisposeAsync();
        }
    }
}
