using System.Text.Json.Nodes;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Receivers.Jaeger;

/// <summary>
/// The ADR's Go example (ADR-024 section 8.2, Fixtures/go/adr_example.go) built against Debian's Go OpenTelemetry SDK
/// (golang-opentelemetry-otel-dev 1.1.0, which has exporters/jaeger), as <c>GO111MODULE=off GOPATH=/usr/share/gocode go
/// build</c>. scripts/test.sh installs both packages; without <c>go</c> the tests that need it are skipped.
/// </summary>
public sealed class GoJaegerExample : IAsyncLifetime
{
    public const string SkipReason = "go is not installed: apt-get install -y golang-go golang-opentelemetry-otel-dev (scripts/test.sh installs them)";

    private readonly string _directory = Directory.CreateTempSubdirectory("ariadne-go-").FullName;

    public static bool Available { get; } = ChildProcess.IsOnPath("go");

    public string Program => Path.Combine(_directory, "adrexample");

    public async Task InitializeAsync()
    {
        if (!Available)
        {
            return;
        }

        foreach (var source in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Receivers", "Jaeger", "Fixtures", "go"), "*.go"))
        {
            File.Copy(source, Path.Combine(_directory, Path.GetFileName(source)));
        }

        var (code, output) = await ChildProcess.RunAsync("go", ["build", "-o", Program, "."], _directory, new Dictionary<string, string>
        {
            ["GO111MODULE"] = "off",
            ["GOPATH"] = "/usr/share/gocode",
            ["GOCACHE"] = Path.Combine(_directory, "cache"),
            ["GOFLAGS"] = string.Empty,
        });
        Assert.True(code == 0, $"go build of the ADR example failed ({code}); golang-opentelemetry-otel-dev must be installed: {output}");
    }

    /// <summary>Runs the built example; returns the trace id it printed.</summary>
    public async Task<string> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var (code, output) = await ChildProcess.RunAsync(Program, arguments, _directory, environment);
        Assert.True(code == 0, $"the Go example exited with {code}: {output}");
        return TraceIdIn(output);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    internal static string TraceIdIn(string output) =>
        output.Split('\n').Single(l => l.StartsWith("TRACE ", StringComparison.Ordinal))["TRACE ".Length..].Trim();
}

/// <summary>A test that needs the Go toolchain: skipped, with the reason, only where <c>go</c> is absent.</summary>
public sealed class GoFactAttribute : FactAttribute
{
    public GoFactAttribute()
    {
        if (!GoJaegerExample.Available)
        {
            Skip = GoJaegerExample.SkipReason;
        }
    }
}

/// <summary>The npm jaeger-client 3.19.0 (Fixtures/node/send.js), installed from the npm registry into a temp project.</summary>
public sealed class NpmJaegerClient : IAsyncLifetime
{
    private NpmProject _project = null!;

    public async Task InitializeAsync() => _project = await NpmProject.CreateAsync(
        new Dictionary<string, string> { ["send.js"] = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Receivers", "Jaeger", "Fixtures", "node", "send.js")) },
        "jaeger-client@3.19.0");

    public async Task<string> SendAsync(params string[] arguments)
    {
        var (code, output) = await _project.NodeAsync("send.js", arguments);
        Assert.True(code == 0, $"node send.js exited with {code}: {output}");
        return GoJaegerExample.TraceIdIn(output);
    }

    public Task DisposeAsync()
    {
        _project.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Real Jaeger clients end to end: what they send is read back through the Jaeger query API.</summary>
public sealed class JaegerClientTests(JaegerServerFixture fixture, GoJaegerExample go, NpmJaegerClient npm)
    : IClassFixture<JaegerServerFixture>, IClassFixture<GoJaegerExample>, IClassFixture<NpmJaegerClient>
{
    [GoFact]
    public async Task The_adr_go_example_posts_to_14268_and_its_trace_is_served_by_the_jaeger_api()
    {
        // The example posts to http://jaeger:14268/api/traces as written; the proxy variables bring that request here.
        var proxy = fixture.Server.GetUri(Ariadne.Hosting.Listener.JaegerThriftHttp).ToString();
        var traceId = await go.RunAsync(new Dictionary<string, string>
        {
            ["HTTP_PROXY"] = proxy, ["http_proxy"] = proxy, ["NO_PROXY"] = string.Empty, ["no_proxy"] = string.Empty,
        });

        // The exporter's HTTP post is acknowledged once stored, and the program ends after its last export.
        var trace = await GetTraceAsync(traceId, spans: 2);
        AssertCheckoutTrace(trace, "unknown_service:adrexample", scopeTag: "otel.library.name");
        // Stored as status ERROR with its description, and shown as Jaeger v2 shows an OTLP status.
        var tags = TagsOf(Span(trace, "charge card"));
        Assert.Equal(("ERROR", "card declined"), (tags["otel.status_code"]!.GetValue<string>(), tags["otel.status_description"]!.GetValue<string>()));
    }

    [GoFact]
    public async Task The_go_exporters_agent_endpoint_sends_thrift_compact_to_6831()
    {
        var traceId = await go.RunAsync(new Dictionary<string, string>(), "agent", "127.0.0.1",
            fixture.Server.Options.Ports.JaegerCompact.ToString(System.Globalization.CultureInfo.InvariantCulture), "go-agent-e2e");

        AssertCheckoutTrace(await GetTraceAsync(traceId, spans: 2), "go-agent-e2e", scopeTag: "otel.library.name");
    }

    [Fact]
    public async Task The_npm_jaeger_client_sends_thrift_binary_over_udp_to_6832()
    {
        var traceId = await npm.SendAsync("udp", "127.0.0.1", fixture.Server.Options.Ports.JaegerBinary.ToString(System.Globalization.CultureInfo.InvariantCulture), "node-udp-e2e");

        var trace = await GetTraceAsync(traceId, spans: 2);
        AssertCheckoutTrace(trace, "node-udp-e2e", scopeTag: null);
        var process = ProcessOf(trace, Span(trace, "charge card"));
        Assert.Equal("Jaeger-Node-3.19.0", Tags(process["tags"]!)["opencensus.exporterversion"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_npm_jaeger_client_posts_thrift_binary_to_14268()
    {
        var traceId = await npm.SendAsync("http", fixture.ThriftHttpUrl.ToString(), "node-http-e2e");

        AssertCheckoutTrace(await GetTraceAsync(traceId, spans: 2), "node-http-e2e", scopeTag: null);
    }

    /// <summary>
    /// The trace both programs write: GET /checkout (server) with the child charge card (client) holding typed tags,
    /// an error and a "payment declined" log.
    /// </summary>
    private static void AssertCheckoutTrace(JsonNode trace, string service, string? scopeTag)
    {
        var parent = Span(trace, "GET /checkout");
        var child = Span(trace, "charge card");
        Assert.Equal(service, (string)ProcessOf(trace, child)["serviceName"]!);
        var reference = child["references"]!.AsArray().Single()!;
        Assert.Equal(("CHILD_OF", (string)parent["spanID"]!), ((string)reference["refType"]!, (string)reference["spanID"]!));

        var tags = TagsOf(child);
        Assert.Equal("client", tags["span.kind"]!.GetValue<string>());
        Assert.Equal("server", TagsOf(parent)["span.kind"]!.GetValue<string>());
        Assert.True(tags["error"]!.GetValue<bool>());
        Assert.Equal(99.5, tags["order.value"]!.GetValue<double>());
        Assert.Equal(3, tags["retry.count"]!.GetValue<long>());
        Assert.False(tags["cache.hit"]!.GetValue<bool>());
        if (scopeTag is not null)
        {
            Assert.Equal("ariadne-go-test", tags[scopeTag]!.GetValue<string>());
        }

        var log = child["logs"]!.AsArray().Single()!;
        var fields = Tags(log["fields"]!);
        Assert.Equal("payment declined", fields["event"]!.GetValue<string>());
        Assert.Equal("insufficient_funds", fields["decline.code"]!.GetValue<string>());
    }

    private async Task<JsonNode> GetTraceAsync(string traceId, int spans)
    {
        var query = new TenantQuery(fixture.Query, "default");
        JsonNode? trace = null;
        // UDP has no acknowledgement: poll until the spans are stored (HTTP ones are there at once).
        await Poll.UntilAsync(async () =>
        {
            var (status, body, _) = await query.GetAsync($"/api/traces/{traceId}");
            trace = status == System.Net.HttpStatusCode.OK ? JsonNode.Parse(body)!["data"]![0] : null;
            return trace?["spans"]!.AsArray().Count >= spans;
        }, $"{spans} spans of trace {traceId}", interval: TimeSpan.FromMilliseconds(100));
        return trace!;
    }

    private static JsonNode Span(JsonNode trace, string operation) =>
        trace["spans"]!.AsArray().Single(s => (string)s!["operationName"]! == operation)!;

    private static JsonNode ProcessOf(JsonNode trace, JsonNode span) => trace["processes"]![(string)span["processID"]!]!;

    private static Dictionary<string, JsonNode?> TagsOf(JsonNode span) => Tags(span["tags"]!);

    private static Dictionary<string, JsonNode?> Tags(JsonNode tags) =>
        tags.AsArray().ToDictionary(t => (string)t!["key"]!, t => t!["value"]);
}
