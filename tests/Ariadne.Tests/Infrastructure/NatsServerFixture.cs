namespace Ariadne.Tests.Infrastructure;

/// <summary>A private nats-server (SERVICES.md section 3) on free client and monitoring ports.</summary>
public sealed class NatsServerFixture : IAsyncLifetime
{
    private ExternalProcess? _server;

    public int Port { get; } = FreePort.Next();

    public string Url => $"nats://127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        var monitor = FreePort.Next();
        var binary = File.Exists("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server";
        _server = ExternalProcess.Start(binary, ["-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-m", monitor.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var http = new HttpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            if (_server.HasExited)
            {
                throw new InvalidOperationException($"nats-server exited while starting:{Environment.NewLine}{_server.Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{monitor}/healthz"), timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(50, timeout.Token);
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
