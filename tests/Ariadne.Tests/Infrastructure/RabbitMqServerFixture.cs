using RabbitMQ.Client;

namespace Ariadne.Tests.Infrastructure;

/// <summary>
/// A private RabbitMQ broker (SERVICES.md section 2): its own epmd on a free port, node and AMQP ports free,
/// mnesia and logs in a temp directory, stopped by PID at the end. No management plugin: it starts ~3 s sooner.
/// </summary>
public sealed class RabbitMqServerFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ariadne-rabbitmq-").FullName;
    private ExternalProcess? _epmd;
    private ExternalProcess? _broker;

    public int Port { get; } = FreePort.Next();

    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    public async Task InitializeAsync()
    {
        foreach (var sub in new[] { "home", "mnesia", "log" })
        {
            Directory.CreateDirectory(Path.Combine(_directory, sub));
        }

        await File.WriteAllTextAsync(Path.Combine(_directory, "enabled_plugins"), "[].");
        await File.WriteAllTextAsync(Path.Combine(_directory, "rabbitmq.conf"), "loopback_users = none\n");
        var epmdPort = FreePort.Next();
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = Path.Combine(_directory, "home"),
            ["RABBITMQ_NODENAME"] = $"ariadne{Port}@localhost",
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(_directory, "rabbitmq.conf"),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",

            // Our own epmd on its own port: never the machine-wide one on 4369, which would outlive the test.
            ["ERL_EPMD_PORT"] = epmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        _epmd = ExternalProcess.Start("/usr/bin/epmd", ["-address", "127.0.0.1", "-port", environment["ERL_EPMD_PORT"]], environment);
        _broker = ExternalProcess.Start("/usr/lib/rabbitmq/bin/rabbitmq-server", [], environment);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var factory = new ConnectionFactory { Uri = new System.Uri(Uri) };
        while (true)
        {
            if (_broker.HasExited)
            {
                throw new InvalidOperationException($"rabbitmq-server exited while starting:{Environment.NewLine}{_broker.Output}");
            }

            try
            {
                await using var connection = await factory.CreateConnectionAsync(timeout.Token);
                return;
            }
            catch (RabbitMQ.Client.Exceptions.BrokerUnreachableException) when (!timeout.IsCancellationRequested)
            {
                await Task.Delay(250, timeout.Token);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        if (_epmd is not null)
        {
            await _epmd.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process that is exiting; the OS temp cleaner takes it later.
        }
    }
}
