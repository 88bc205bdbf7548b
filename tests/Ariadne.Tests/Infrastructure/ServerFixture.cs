using Ariadne.Configuration;
using Ariadne.Hosting;

namespace Ariadne.Tests.Infrastructure;

/// <summary>
/// The real server, as `ariadne serve` runs it, on free loopback ports with its data in a temp directory.
/// Derive and override <see cref="Configure"/> for a server with other settings.
/// </summary>
public class ServerFixture : IAsyncLifetime
{
    public AriadneServer Server { get; private set; } = null!;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("ariadne-test-").FullName;

    public HttpClient Query { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var options = new AriadneOptions
        {
            ListenAddress = "127.0.0.1",
            DataDirectory = DataDirectory,
            Ports = new PortOptions { OtlpGrpc = 0, OtlpHttp = 0, Zipkin = 0, Query = 0, Sampling = 0, JaegerThriftHttp = 0, JaegerGrpc = 0, JaegerCompact = 0, JaegerBinary = 0, Tempo = 0 },
        };
        Configure(options);
        Server = AriadneServer.Create(options, logging => logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole(), ConfigureServices);
        await Server.StartAsync();
        Query = new HttpClient { BaseAddress = Server.GetUri(Listener.Query) };
    }

    public HttpClient CreateClient(Listener listener) => new() { BaseAddress = Server.GetUri(listener) };

    protected virtual void Configure(AriadneOptions options)
    {
    }

    /// <summary>Runs after the server's own registrations: replace a service, such as the clock.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    public async Task DisposeAsync()
    {
        Query.Dispose();
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a background task; the OS temp cleaner takes it later.
        }
    }
}
