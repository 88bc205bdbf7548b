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
