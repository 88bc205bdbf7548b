using System.Text.Json.Nodes;
using Ariadne.Hosting;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Receivers;

/// <summary>The OpenTelemetry JS SDK and its exporters from npm, as a Node.js service would run them.</summary>
public sealed class JsOtelSdk : IAsyncLifetime
{
    /// <summary>
    /// Exports one two-span trace through the exporter named first and, given a logs URL, an error log record written
    /// inside the child span; then prints the trace id.
    /// </summary>
    private const string Script = """
        const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
        const { resourceFromAttributes } = require('@opentelemetry/resources');
        const api = require('@opentelemetry/api');
        const [kind, url, service, logsUrl] = process.argv.slice(2);
        const exporter = {
          grpc: () => new (require('@opentelemetry/exporter-trace-otlp-grpc').OTLPTraceExporter)({ url }),
          'http/protobuf': () => new (require('@opentelemetry/exporter-trace-otlp-proto').OTLPTraceExporter)({ url }),
          'http/json': () => new (require('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter)({ url }),
          zipkin: () => new (require('@opentelemetry/exporter-zipkin').ZipkinExporter)({ url }),
        }[kind]();
        const provider = new BasicTracerProvider({
          resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'test' }),
          spanProcessors: [new SimpleSpanProcessor(exporter)],
        });
        const tracer = provider.getTracer('ariadne-js-test', '1.2.3');
        const { LoggerProvider, SimpleLogRecordProcessor } = require('@opentelemetry/sdk-logs');
        const logExporter = logsUrl && new (require(`@opentelemetry/exporter-logs-otlp-${{ grpc: 'grpc', 'http/protobuf': 'proto', 'http/json': 'http' }[kind]}`).OTLPLogExporter)({ url: logsUrl });
        const loggers = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': service }), processors: logExporter ? [new SimpleLogRecordProcessor(logExporter)] : [] });
        (async () => {
          const parent = tracer.startSpan('GET /checkout', { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': 'GET' } });
          const child = tracer.startSpan('charge card', {
            kind: api.SpanKind.CLIENT,
            attributes: { 'order.value': 99.5, 'cache.hit': false, 'retry.count': 3 },
          }, api.trace.setSpan(api.context.active(), parent));
          child.addEvent('payment declined', { 'decline.code': 'insufficient_funds' });
          child.setStatus({ code: api.SpanStatusCode.ERROR, message: 'card declined' });
          loggers.getLogger('ariadne-js-test').emit({ severityNumber: 17, severityText: 'ERROR', body: 'card declined',
            attributes: { 'decline.code': 'insufficient_funds' }, context: api.trace.setSpan(api.context.active(), child) });
          child.end();
          parent.end();
          await provider.shutdown();
          await loggers.shutdown();
          console.log('TRACE ' + parent.spanContext().traceId);
        })().catch(e => { console.error(e); process.exit(1); });
        """;

    private NpmProject _project = null!;

    public async Task InitializeAsync() => _project = await NpmProject.CreateAsync(
        new Dictionary<string, string> { ["export.js"] = Script },
        "@opentelemetry/api@1.9.1", "@opentelemetry/sdk-trace-base@2.12.1", "@opentelemetry/resources@2.12.1",
        "@opentelemetry/exporter-trace-otlp-grpc@0.212.0", "@opentelemetry/exporter-trace-otlp-proto@0.212.0",
        "@opentelemetry/exporter-trace-otlp-http@0.212.0", "@opentelemetry/exporter-zipkin@2.12.1",
        "@opentelemetry/sdk-logs@0.212.0", "@opentelemetry/exporter-logs-otlp-grpc@0.212.0", "@opentelemetry/exporter-logs-otlp-proto@0.212.0",
        "@opentelemetry/exporter-logs-otlp-http@0.212.0");

    /// <summary>Exports the trace (and the log record, given <paramref name="logsUrl"/>); returns the trace id.</summary>
    public async Task<string> ExportAsync(string exporter, Uri url, string service, Uri? logsUrl)
    {
        var (code, output) = await _project.NodeAsync("export.js", [exporter, url.ToString(), service, .. logsUrl is null ? Array.Empty<string>() : [logsUrl.ToString()]]);
        Assert.True(code == 0, $"node exited with {code}: {output}");
        return output.Split('\n').Single(l => l.StartsWith("TRACE ", StringComparison.Ordinal))["TRACE ".Length..].Trim();
    }

    public Task DisposeAsync()
    {
        _project.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class JsSdkExportTests(JsOtelSdk sdk, ServerFixture fixture) : IClassFixture<JsOtelSdk>, IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData("grpc")]
    [InlineData("http/protobuf")]
    [InlineData("http/json")]
    [InlineData("zipkin")]
    public async Task A_trace_from_the_js_sdk_is_served_with_its_parent_link_typed_tags_event_error_and_log_record(string exporter)
    {
        var (url, logsUrl) = exporter switch
        {
            "grpc" => (fixture.Server.GetUri(Listener.OtlpGrpc), fixture.Server.GetUri(Listener.OtlpGrpc)),
            "zipkin" => (new Uri(fixture.Server.GetUri(Listener.Zipkin), "api/v2/spans"), null),
            _ => (new Uri(fixture.Server.GetUri(Listener.OtlpHttp), "v1/traces"), new Uri(fixture.Server.GetUri(Listener.OtlpHttp), "v1/logs")),
        };
        var service = "js-" + exporter.Replace('/', '-');
        var traceId = await sdk.ExportAsync(exporter, url, service, logsUrl);

        var trace = (await new TenantQuery(fixture.Query, "default").GetJsonAsync($"/api/traces/{traceId}"))["data"]![0]!;
        var spans = trace["spans"]!.AsArray();
        var parent = spans.Single(s => (string)s!["operationName"]! == "GET /checkout")!;
        var child = spans.Single(s => (string)s!["operationName"]! == "charge card")!;
        Assert.Equal(service, (string)trace["processes"]![(string)child["processID"]!]!["serviceName"]!);
        var reference = child["references"]!.AsArray().Single()!;
        Assert.Equal(("CHILD_OF", (string)parent["spanID"]!), ((string)reference["refType"]!, (string)reference["spanID"]!));

        // Zipkin's error tag holds the message; Jaeger v2 keeps it as a string tag beside its own error=true, and
        // takes no status description from it.
        var errors = child["tags"]!.AsArray().Where(t => (string)t!["key"]! == "error").Select(t => t!["value"]!.ToJsonString()).ToList();
        Assert.Equal(exporter == "zipkin" ? ["\"card declined\"", "true"] : ["true"], errors);
        var tags = child["tags"]!.AsArray().Where(t => (string)t!["key"]! != "error").ToDictionary(t => (string)t!["key"]!, t => t!);
        Assert.Equal("client", (string)tags["span.kind"]["value"]!);
        if (exporter == "zipkin")
        {
            Assert.False(tags.ContainsKey("otel.status_description"));
            Assert.Equal("99.5", (string)tags["order.value"]["value"]!); // Zipkin tags are strings
        }
        else
        {
            Assert.Equal("card declined", (string)tags["otel.status_description"]["value"]!);
            Assert.Equal(("float64", 99.5), ((string)tags["order.value"]["type"]!, (double)tags["order.value"]["value"]!));
            Assert.Equal(("int64", 3L), ((string)tags["retry.count"]["type"]!, (long)tags["retry.count"]["value"]!));
            Assert.Equal(("bool", false), ((string)tags["cache.hit"]["type"]!, (bool)tags["cache.hit"]["value"]!));
            Assert.Equal("ariadne-js-test", (string)tags["otel.scope.name"]["value"]!);
            var process = trace["processes"]![(string)child["processID"]!]!["tags"]!.AsArray();
            Assert.Contains(process, t => (string)t!["key"]! == "deployment.environment" && (string)t["value"]! == "test");
        }

        var log = child["logs"]!.AsArray().Single()!["fields"]!.AsArray();
        Assert.Contains(log, f => (string)f!["key"]! == "event" && (string)f["value"]! == "payment declined");

        if (logsUrl is not null)
        {
            // The log record the SDK wrote inside the child span, with its trace and span ids.
            var logs = (await new TenantQuery(fixture.Query, "default").GetJsonAsync($"/api/ariadne/traces/{traceId}/logs"))["logs"]!.AsArray();
            var record = Assert.Single(logs)!;
            Assert.Equal(((string)child["spanID"]!, "card declined", "error", "insufficient_funds"),
                ((string)record["spanId"]!, (string)record["body"]!, (string)record["severity"]!, (string)record["attributes"]!["decline.code"]!));
        }
    }
}
