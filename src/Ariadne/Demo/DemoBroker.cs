using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Ariadne.Demo;

/// <summary>
/// A private RabbitMQ for `ariadne demo`, as scripts/demo.sh starts one (the SERVICES.md recipe): its own epmd on a free
/// port, the broker on free loopback ports with its data in a temp directory, stopped by PID when the demo ends. So
/// `ariadne demo` alone shows the messaging hop wherever rabbitmq-server is installed.
/// </summary>
public sealed class DemoBroker : IAsyncDisposable
{
    public const string ServerPath = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private const string EpmdPath = "/usr/bin/epmd";

    private readonly string _directory;
    private readonly List<Process> _processes = [];

    private DemoBroker(string directory, int port)
    {
        _directory = directory;
        Uri = $"amqp://guest:guest@127.0.0.1:{port}/";
    }

    public string Uri { get; }

    public static bool IsInstalled => File.Exists(ServerPath) && File.Exists(EpmdPath);

    /// <summary>Starts the broker and waits (up to <paramref name="timeout"/>) until it takes AMQP connections.</summary>
    public static async Task<DemoBroker> StartAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("ariadne-demo-rabbitmq-").FullName;
        foreach (var sub in new[] { "home", "mnesia", "log" })
        {
            Directory.CreateDirectory(Path.Combine(directory, sub));
        }

        await File.WriteAllTextAsync(Path.Combine(directory, "enabled_plugins"), "[].", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "rabbitmq.conf"), "loopback_users = none\n", cancellationToken);
        int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var port = FreePort();
        var epmdPort = FreePort().ToString(CultureInfo.InvariantCulture);
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = Path.Combine(directory, "home"),
            ["RABBITMQ_NODENAME"] = $"ariadnedemo{port}@localhost",
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(directory, "log"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(directory, "enabled_plugins"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(directory, "rabbitmq.conf"),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",

            // Its own epmd on its own port, never the machine-wide one on 4369, which would outlive the demo.
            ["ERL_EPMD_PORT"] = epmdPort,
        };

        var broker = new DemoBroker(directory, port);
        try
        {
            broker.Start(EpmdPath, ["-address", "127.0.0.1", "-port", epmdPort], environment, "epmd.log");
            var server = broker.Start(ServerPath, [], environment, "stdout.log");
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            while (true)
            {
                if (server.HasExited)
                {
                    throw new InvalidOperationException($"rabbitmq-server exited with code {server.ExitCode} while starting; its log is in {Path.Combine(directory, "log")}.");
                }

                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, port, deadline.Token);
                    return broker;
                }
                catch (SocketException)
                {
                    await Task.Delay(250, deadline.Token);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await broker.DisposeAsync();
            throw new InvalidOperationException($"rabbitmq-server did not take connections within {timeout.TotalSeconds:0} s; its log is in {Path.Combine(directory, "log")}.");
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The broker before its epmd, each given time to stop cleanly (RabbitMQ takes a few seconds).
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await DemoShop.StopAsync(process);
        }

        _processes.Clear();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A log file still being closed; the OS temp cleaner takes it later.
        }
    }

    private Process Start(string path, string[] arguments, Dictionary<string, string> environment, string log)
    {
        var start = new ProcessStartInfo(path, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {path}");
        _processes.Add(process);
        var writer = TextWriter.Synchronized(new StreamWriter(Path.Combine(_directory, "log", log)) { AutoFlush = true });
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { writer.WriteLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { writer.WriteLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
