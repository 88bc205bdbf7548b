using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Ariadne.Demo;

/// <summary>What the shop's processes need to know.</summary>
public sealed record DemoShopOptions
{
    /// <summary>OTLP/gRPC endpoint the services export to (the Ariadne server's 4317 listener).</summary>
    public required Uri OtlpEndpoint { get; init; }

    /// <summary>Directory holding Ariadne.Demo.dll; null: the demo/ folder next to the server.</summary>
    public string? DemoDirectory { get; init; }

    public string? RabbitMq { get; init; }

    public string? Nats { get; init; }

    /// <summary>
    /// The gateway's port, fixed so that the fault commands a run prints keep working in the next; null or 0: a free
    /// one. The other services always take free ports: nobody types their addresses.
    /// </summary>
    public int? GatewayPort { get; init; }

    /// <summary>Requests per second of the traffic generator; 0 runs no traffic.</summary>
    public double TrafficRate { get; init; }

    public string? TrafficMix { get; init; }

    /// <summary>Extra environment for every service (e.g. OTEL_SDK_DISABLED for an untraced baseline).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Receives every line a service prints, with the service's name.</summary>
    public Action<string, string>? Output { get; init; }
}

/// <summary>
/// The demo e-commerce shop: each service of `Ariadne.Demo` in its own child process on free loopback ports,
/// wired to one another and to Ariadne; plus, optionally, the traffic generator. Disposing stops them
/// (SIGTERM, so they flush their last spans, then a kill after a grace period).
/// </summary>
public sealed class DemoShop : IAsyncDisposable
{
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(10);

    private readonly List<(string Name, Process Process)> _processes = [];
    private readonly Dictionary<string, Uri> _urls;
    private readonly string _dataDirectory;

    private DemoShop(Dictionary<string, Uri> urls, string dataDirectory)
    {
        _urls = urls;
        _dataDirectory = dataDirectory;
    }

    public static IReadOnlyList<string> Services { get; } = ["catalog", "inventory", "payments", "orders", "notifications", "gateway"];

    public Uri Gateway => _urls["gateway"];

    public Uri UrlOf(string service) => _urls[service];

    /// <summary>Each running service's process id (the overhead bench reads their CPU time from /proc).</summary>
    internal IEnumerable<(string Service, int ProcessId)> ProcessIds => _processes.Select(p => (p.Name, p.Process.Id));

    /// <summary>Starts every service, waits until each answers its health check, then starts the traffic.</summary>
    public static async Task<DemoShop> StartAsync(DemoShopOptions options, CancellationToken cancellationToken)
    {
        var demoDll = Path.Combine(options.DemoDirectory ?? Path.Combine(AppContext.BaseDirectory, "demo"), "Ariadne.Demo.dll");
        if (!File.Exists(demoDll))
        {
            throw new FileNotFoundException($"the demo shop is not built: {demoDll} is missing. Build the solution (dotnet build Ariadne.slnx) and run ariadne from its output.", demoDll);
        }

        var ports = FreePorts(Services.Count);
        var urls = Services.Select((s, i) => (s, new Uri($"http://127.0.0.1:{ports[i]}"))).ToDictionary(x => x.s, x => x.Item2);
        if (options.GatewayPort is > 0 and var gatewayPort)
        {
            if (!IsFree(gatewayPort))
            {
                throw new InvalidOperationException($"port {gatewayPort} for the shop's gateway is in use: stop what holds it, or pass --gateway-port with another port (0 picks a free one).");
            }

            urls["gateway"] = new Uri($"http://127.0.0.1:{gatewayPort}");
        }

        var data = Directory.CreateTempSubdirectory("ariadne-demo-").FullName;
        var shop = new DemoShop(urls, data);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DEMO_DATA_DIR"] = data,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = options.OtlpEndpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",

            // A demo wants traces on screen within a second, not the 5 s production default.
            ["OTEL_BSP_SCHEDULE_DELAY"] = "500",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "500",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "10000",
            ["DOTNET_ENVIRONMENT"] = "Demo",

            // Each service's working directory is the data directory, where SQLite writes on every order: a host that
            // watches its content root for appsettings changes woke up for each of those writes (3–5 % of the
            // shop's CPU in the profile of docs/PERFORMANCE.md, session 8), and the demo has no settings file to reload.
            ["DOTNET_hostBuilder__reloadConfigOnChange"] = "false",
            ["DEMO_PARENT_PID"] = System.Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (service, url) in urls)
        {
            environment[$"DEMO_{service.ToUpperInvariant()}_URL"] = url.ToString();
        }

        if (options.RabbitMq is not null)
        {
            environment["DEMO_RABBITMQ"] = options.RabbitMq;
        }
        else if (options.Nats is not null)
        {
            environment["DEMO_NATS"] = options.Nats;
        }

        foreach (var (key, value) in options.Environment)
        {
            environment[key] = value;
        }

        try
        {
            foreach (var service in Services)
            {
                shop.Launch(demoDll, service, environment, options.Output);
            }

            await shop.WaitHealthyAsync(cancellationToken);
            if (options.TrafficRate > 0)
            {
                environment["DEMO_RATE"] = options.TrafficRate.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (options.TrafficMix is not null)
                {
                    environment["DEMO_MIX"] = options.TrafficMix;
                }

                shop.Launch(demoDll, "traffic", environment, options.Output);
            }
        }
        catch
        {
            await shop.DisposeAsync();
            throw;
        }

        return shop;
    }

    public async ValueTask DisposeAsync()
    {
        // Traffic first, the gateway before the services it calls, so shutdown does not paint errors on traces.
        var stopping = Enumerable.Reverse(_processes).ToList();
        foreach (var (_, process) in stopping)
        {
            Terminate(process);
        }

        foreach (var (_, process) in stopping)
        {
            await StopAsync(process, signalled: true);
        }

        _processes.Clear();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite's WAL file can outlive its process by a moment; the OS temp cleaner takes it later.
        }
    }

    /// <summary>SIGTERM (unless already sent), a grace period, then a kill; disposes the process.</summary>
    internal static async Task StopAsync(Process process, bool signalled = false)
    {
        if (!signalled)
        {
            Terminate(process);
        }

        using var grace = new CancellationTokenSource(s_stopGrace);
        try
        {
            await process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        process.Dispose();
    }

    private void Launch(string demoDll, string service, Dictionary<string, string> environment, Action<string, string>? output)
    {
        var start = new ProcessStartInfo(DotnetHost(), [demoDll, service])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = _dataDirectory,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start the {service} service");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { output?.Invoke(service, e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output?.Invoke(service, e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add((service, process));
    }

    private async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        // gRPC services listen HTTP/2-only (h2c): ask them with prior-knowledge HTTP/2.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(90));
        foreach (var service in Services)
        {
            var process = _processes.First(p => p.Name == service).Process;
            var grpc = service is "inventory" or "payments";
            while (true)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"the {service} service exited with code {process.ExitCode} while starting; its output above says why.");
                }

                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_urls[service], "/health"))
                    {
                        Version = grpc ? HttpVersion.Version20 : HttpVersion.Version11,
                        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                    };
                    using var response = await http.SendAsync(request, deadline.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                catch (TaskCanceledException) when (!deadline.IsCancellationRequested)
                {
                    // One slow probe; try again.
                }

                await Task.Delay(100, deadline.Token);
            }
        }
    }

    private static string DotnetHost()
    {
        // Under `dotnet ariadne.dll` or `dotnet test` the host is at hand; from the apphost, DOTNET_HOST_PATH or PATH.
        var self = System.Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        return System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }

    private static bool IsFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    private static void Terminate(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            process.Kill(entireProcessTree: true);
        }
        else
        {
            _ = NativeMethods.Kill(process.Id, NativeMethods.SigTerm);
        }
    }

    private static class NativeMethods
    {
        public const int SigTerm = 15;

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Kill(int pid, int signal);
    }
}
