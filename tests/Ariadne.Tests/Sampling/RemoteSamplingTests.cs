using System.Net;
using Ariadne.Configuration;
using Ariadne.GoCompat;
using Ariadne.Hosting;
using Ariadne.Sampling.Remote;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Sampling;

public sealed class StrategyJsonTests
{
    // The expected strings are the ones jaegertracing/jaeger asserts in internal/sampling/http/handler_test.go and
    // produces with model/converter/json/sampling.go (jsonpb with EmitDefaults, null sub-messages removed).
    [Fact]
    public void Probabilistic_and_rate_limiting_strategies_serialise_as_jaeger_does()
    {
        Assert.Equal("""{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0.42}}""", SamplingStrategy.Probabilistic(0.42).ToJaegerJson());
        Assert.Equal("""{"strategyType":"RATE_LIMITING","rateLimitingSampling":{"maxTracesPerSecond":42}}""", SamplingStrategy.RateLimiting(42).ToJaegerJson());
    }

    [Fact]
    public void Per_operation_strategies_write_every_field_in_proto_order_with_go_number_formatting()
    {
        var strategy = SamplingStrategy.Probabilistic(0.001, new PerOperationStrategies(0.001, 1.0 / 60, [new OperationStrategy("GET /checkout", 1e-5), new OperationStrategy("op", 1)]));
        Assert.Equal(
            """{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0.001},"operationSampling":{"defaultSamplingProbability":0.001,"defaultLowerBoundTracesPerSecond":0.016666666666666666,"perOperationStrategies":[{"operation":"GET /checkout","probabilisticSampling":{"samplingRate":0.00001}},{"operation":"op","probabilisticSampling":{"samplingRate":1}}],"defaultUpperBoundTracesPerSecond":0}}""",
            strategy.ToJaegerJson());
        var rateLimitedWithOperations = SamplingStrategy.RateLimiting(3, new PerOperationStrategies(0.2, 0, []));
        Assert.Equal(
            """{"strategyType":"RATE_LIMITING","rateLimitingSampling":{"maxTracesPerSecond":3},"operationSampling":{"defaultSamplingProbability":0.2,"defaultLowerBoundTracesPerSecond":0,"perOperationStrategies":[],"defaultUpperBoundTracesPerSecond":0}}""",
            rateLimitedWithOperations.ToJaegerJson());
    }

    [Theory]
    [InlineData(0.5, "0.5")]
    [InlineData(1e-5, "0.00001")]
    [InlineData(1e-6, "0.000001")]
    [InlineData(1e-7, "1e-7")]
    [InlineData(1.5e-10, "1.5e-10")]
    [InlineData(123456789.0, "123456789")]
    [InlineData(1e21, "1e+21")]
    [InlineData(-0.25, "-0.25")]
    [InlineData(0, "0")]
    public void Numbers_are_formatted_like_go_encoding_json(double value, string expected) =>
        Assert.Equal(expected, GoJson.FormatFloat(value));

    [Fact]
    public void Strategies_file_merges_default_operation_strategies_into_services_as_jaeger_does()
    {
        // jaeger internal/sampling/samplingstrategy/file/fixtures/operation_strategies.json, without the
        // ratelimiting operation entries (Jaeger drops them with a warning; Ariadne reports them as errors).
        const string json = """
            {
              "default_strategy": { "type": "probabilistic", "param": 0.5,
                "operation_strategies": [
                  { "operation": "op0", "type": "probabilistic", "param": 0.2 },
                  { "operation": "op6", "type": "probabilistic", "param": 0 },
                  { "operation": "op7", "type": "probabilistic", "param": 1 } ] },
              "service_strategies": [
                { "service": "foo", "type": "probabilistic", "param": 0.8,
                  "operation_strategies": [
                    { "operation": "op6", "type": "probabilistic", "param": 0.5 },
                    { "operation": "op1", "type": "probabilistic", "param": 0.2 } ] },
                { "service": "bar", "type": "ratelimiting", "param": 5 },
                { "service": "baz", "type": "probabilistic", "param": 0.1 } ]
            }
            """;
        var errors = new List<string>();
        var file = StrategiesFile.Parse(json, 0.001, errors);
        Assert.Empty(errors);
        Assert.NotNull(file);

        Assert.Equal(
            """{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0.8},"operationSampling":{"defaultSamplingProbability":0.8,"defaultLowerBoundTracesPerSecond":0,"perOperationStrategies":[{"operation":"op6","probabilisticSampling":{"samplingRate":0.5}},{"operation":"op1","probabilisticSampling":{"samplingRate":0.2}},{"operation":"op0","probabilisticSampling":{"samplingRate":0.2}},{"operation":"op7","probabilisticSampling":{"samplingRate":1}}],"defaultUpperBoundTracesPerSecond":0}}""",
            file.For("foo").ToJaegerJson());
        // A service without operation strategies inherits the default's, with its own probability as their default.
        Assert.Equal(0.1, file.For("baz").OperationSampling!.DefaultSamplingProbability);
        Assert.Equal(["op0", "op6", "op7"], file.For("baz").OperationSampling!.Operations.Select(o => o.Operation));
        Assert.Equal(0.5, file.For("bar").OperationSampling!.DefaultSamplingProbability);
        Assert.Equal(5, file.For("bar").MaxTracesPerSecond);
        Assert.Equal(0.5, file.For("unknown").SamplingRate);
    }

    [Fact]
    public void Strategies_file_errors_name_the_bad_entry()
    {
        const string json = """
            {
              "default_strategy": { "type": "probabilistic", "param": 1.5 },
              "service_strategies": [
                { "service": "foo", "type": "probabilistic", "param": 0.2 },
                { "service": "bar", "type": "sometimes", "param": 1 },
                { "service": "baz", "type": "probabilistic", "param": 0.1,
                  "operation_strategies": [ { "operation": "spam", "type": "ratelimiting", "param": 1 } ] },
                { "type": "probabilistic", "param": 0.1 },
                { "service": "foo", "type": "probabilistic", "param": 0.3 } ]
            }
            """;
        var errors = new List<string>();
        Assert.Null(StrategiesFile.Parse(json, 0.001, errors));
        Assert.Contains(errors, e => e.StartsWith("default_strategy: param 1.5 is not a probability", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("service_strategies[1] (service 'bar'): type \"sometimes\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("service_strategies[2] (service 'baz'): operation_strategies[0] (operation 'spam'): operations can only be sampled probabilistically", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("service_strategies[3]: \"service\" must name the service", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("service_strategies[4] (service 'foo'): the service is listed twice", StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_strategies_file_stops_start_up_with_the_entry_named()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ariadne-test-").FullName, "strategies.json");
        File.WriteAllText(path, """{ "service_strategies": [ { "service": "orders", "type": "probabilistic", "param": -1 } ] }""");
        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(null, new Dictionary<string, string?> { ["Sampling:StrategiesFile"] = path }));
        Assert.Contains("service_strategies[0] (service 'orders'): param -1 is not a probability", error.Message, StringComparison.Ordinal);
    }
}

public sealed class StaticStrategiesServerFixture : ServerFixture
{
    public string StrategiesFile { get; } = Path.Combine(Directory.CreateTempSubdirectory("ariadne-test-").FullName, "strategies.json");

    protected override void Configure(AriadneOptions options)
    {
        File.WriteAllText(StrategiesFile, """
            {
              "default_strategy": { "type": "probabilistic", "param": 0.5 },
              "service_strategies": [
                { "service": "orders", "type": "probabilistic", "param": 0.25,
                  "operation_strategies": [ { "operation": "POST /checkout", "type": "probabilistic", "param": 1 } ] },
                { "service": "reloaded", "type": "probabilistic", "param": 0.1 } ]
            }
            """);
        options.Sampling.StrategiesFile = StrategiesFile;
        options.Sampling.StrategiesReloadInterval = TimeSpan.FromMilliseconds(100);
    }
}

public sealed class RemoteSamplingEndpointTests(StaticStrategiesServerFixture fixture) : IClassFixture<StaticStrategiesServerFixture>
{
    [Fact]
    public async Task Sampling_listener_and_query_listener_serve_the_same_strategy()
    {
        using var sampling = fixture.CreateClient(Listener.Sampling);
        var fromSamplingPort = await sampling.GetAsync("/sampling?service=orders");
        Assert.Equal(HttpStatusCode.OK, fromSamplingPort.StatusCode);
        Assert.Equal("application/json", fromSamplingPort.Content.Headers.ContentType?.MediaType);
        var body = await fromSamplingPort.Content.ReadAsStringAsync();
        Assert.StartsWith("""{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0.25},"operationSampling":{"defaultSamplingProbability":0.25""", body, StringComparison.Ordinal);
        Assert.Equal(body, await fixture.Query.GetStringAsync("/api/sampling?service=orders"));
        Assert.Equal("""{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0.5}}""", await sampling.GetStringAsync("/sampling?service=other"));
    }

    [Fact]
    public async Task Service_parameter_must_be_given_once_as_jaeger_requires()
    {
        using var sampling = fixture.CreateClient(Listener.Sampling);
        foreach (var query in new[] { "/sampling", "/sampling?service=a&service=b" })
        {
            var response = await sampling.GetAsync(query);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("'service' parameter must be provided once\n", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await sampling.GetAsync("/api/ariadne/sampling")).StatusCode);
    }

    [Fact]
    public async Task A_changed_strategies_file_is_served_and_a_broken_change_keeps_the_previous_strategies()
    {
        using var sampling = fixture.CreateClient(Listener.Sampling);
        Assert.Contains("\"samplingRate\":0.1}", await sampling.GetStringAsync("/sampling?service=reloaded"), StringComparison.Ordinal);
        var original = await File.ReadAllTextAsync(fixture.StrategiesFile);
        await File.WriteAllTextAsync(fixture.StrategiesFile, original.Replace("\"param\": 0.1", "\"param\": 0.75", StringComparison.Ordinal));
        await Poll.UntilAsync(async () => (await sampling.GetStringAsync("/sampling?service=reloaded")).Contains("\"samplingRate\":0.75}", StringComparison.Ordinal));

        await File.WriteAllTextAsync(fixture.StrategiesFile, "{ \"service_strategies\": [ { \"service\": \"reloaded\", \"type\": \"probabilistic\", \"param\": 7 } ] }");
        var provider = fixture.Server.Services.GetRequiredService<StaticStrategyProvider>();
        provider.Reload();
        Assert.Contains("\"samplingRate\":0.75}", await sampling.GetStringAsync("/sampling?service=reloaded"), StringComparison.Ordinal);
        await File.WriteAllTextAsync(fixture.StrategiesFile, original);
        await Poll.UntilAsync(async () => (await sampling.GetStringAsync("/sampling?service=reloaded")).Contains("\"samplingRate\":0.1}", StringComparison.Ordinal));
    }
}
