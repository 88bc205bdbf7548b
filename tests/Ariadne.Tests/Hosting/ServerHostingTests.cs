using System.Net;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Hosting;

public sealed class ServerHostingTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Health_and_metrics_answer_on_the_query_listener()
    {
        Assert.Equal("OK", await fixture.Query.GetStringAsync("/health/live"));
        Assert.Equal(HttpStatusCode.OK, (await fixture.Query.GetAsync("/health/ready")).StatusCode);
        var metrics = await fixture.Query.GetStringAsync("/metrics");
        Assert.Contains("process_cpu_seconds_total", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoints_of_one_listener_are_not_served_on_another()
    {
        using var zipkin = fixture.CreateClient(Listener.Zipkin);
        Assert.Equal(HttpStatusCode.NotFound, (await zipkin.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public void Invalid_configuration_names_the_key()
    {
        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(null, new Dictionary<string, string?>
        {
            ["Ports:Query"] = "70000",
            ["Storage"] = "elasticsearch",
        }));
        Assert.Contains("Ports:Query", error.Message, StringComparison.Ordinal);
        Assert.Contains("Storage", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_and_mistyped_keys_are_errors_that_name_the_key()
    {
        var unknown = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(null, new Dictionary<string, string?> { ["Ports:Jaeger"] = "1" }));
        Assert.Contains("Jaeger", unknown.Message, StringComparison.Ordinal);
        var mistyped = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(null, new Dictionary<string, string?> { ["Ports:Zipkin"] = "abc" }));
        Assert.Contains("Ports:Zipkin", mistyped.Message, StringComparison.Ordinal);
    }
}

public sealed class PortInUseTests
{
    [Fact]
    public async Task Serve_names_a_port_that_is_already_taken_and_the_flag_that_moves_it()
    {
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((IPEndPoint)holder.LocalEndpoint).Port;
        var options = new AriadneOptions { ListenAddress = "127.0.0.1", Storage = "memory" };
        options.Ports.OtlpGrpc = 0;
        options.Ports.OtlpHttp = 0;
        options.Ports.Zipkin = taken;
        options.Ports.Query = 0;
        options.Ports.Sampling = 0;
        options.Ports.JaegerThriftHttp = 0;
        options.Ports.JaegerGrpc = 0;
        options.Ports.Tempo = 0;
        Assert.Equal((Listener.Zipkin, taken), AriadneServer.FindPortInUse(options));

        var root = new System.CommandLine.RootCommand { Cli.ServeCommand.Create() };
        var exit = await root.Parse(["serve", "--storage", "memory", "--listen-address", "127.0.0.1", "--otlp-grpc-port", "0", "--otlp-http-port", "0",
            "--zipkin-port", taken.ToString(System.Globalization.CultureInfo.InvariantCulture), "--query-port", "0", "--sampling-port", "0",
            "--jaeger-thrift-http-port", "0", "--jaeger-grpc-port", "0", "--jaeger-compact-port", "0", "--jaeger-binary-port", "0", "--tempo-port", "0"])
            .InvokeAsync();
        Assert.Equal(1, exit);

        holder.Stop();
        Assert.Null(AriadneServer.FindPortInUse(options));
    }
}
