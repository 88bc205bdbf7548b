using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Ariadne.Tests.Infrastructure;
using System.Threading.Channels;

namespace Ariadne.Tests.Alerts;

/// <summary>
/// Debian's prometheus-alertmanager on a free port (SERVICES.md section 5), routing every alert to a webhook receiver
/// that this fixture serves on another free port; received notifications are read from <see cref="Received"/>.
/// </summary>
public sealed class AlertmanagerFixture : IAsyncLifetime
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("ariadne-am-");
    private Process? _process;
    private WebApplication? _receiver;

    public Uri Url { get; private set; } = null!;

    public Channel<JsonElement> Received { get; } = Channel.CreateUnbounded<JsonElement>();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpRequest request) =>
        {
            var json = await JsonDocument.ParseAsync(request.Body);
            await Received.Writer.WriteAsync(json.RootElement.Clone());
            return Results.Ok();
        });
        await _receiver.StartAsync();
        var hook = _receiver.Urls.First() + "/hook";

        var port = FreePort.Next();
        var config = Path.Combine(_directory.FullName, "am.yml");
        await File.WriteAllTextAsync(config, $$"""
            route: {receiver: hook, group_by: ['alertname'], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}
            receivers:
              - name: hook
                webhook_configs: [{url: '{{hook}}', send_resolved: true}]
            """);
        var data = Directory.CreateDirectory(Path.Combine(_directory.FullName, "data")).FullName;
        _process = Process.Start(new ProcessStartInfo("/usr/bin/prometheus-alertmanager",
            ["--config.file=" + config, "--storage.path=" + data, $"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        Url = new Uri($"http://127.0.0.1:{port}/");
        using var http = new HttpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                using var ready = await http.GetAsync(new Uri(Url, "-/ready"), timeout.Token);
                if (ready.StatusCode == HttpStatusCode.OK)
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

    /// <summary>The next notification the webhook receiver got whose status is <paramref name="status"/>.</summary>
    public async Task<JsonElement> WaitForAsync(string status)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var body = await Received.Reader.ReadAsync(timeout.Token);
            if (body.GetProperty("status").GetString() == status)
            {
                return body;
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }

        _directory.Delete(recursive: true);
    }
}
