using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Sampling;

/// <summary>
/// The OpenTelemetry JS SDK with its Jaeger remote sampler, installed from npm into a temp directory, and a script
/// that points the sampler at a server, waits until it has fetched a strategy, prints the sampler and then how many
/// of 2000 root spans per operation a BasicTracerProvider records.
/// </summary>
public sealed class NpmRemoteSampler : IAsyncLifetime
{
    private const string Script = """
        const { JaegerRemoteSampler } = require('@opentelemetry/sampler-jaeger-remote');
        const { BasicTracerProvider, AlwaysOffSampler } = require('@opentelemetry/sdk-trace-base');
        const [endpoint, service, expected, ...operations] = process.argv.slice(2);
        const sampler = new JaegerRemoteSampler({ endpoint, serviceName: service, poolingInterval: 100, initialSampler: new AlwaysOffSampler() });
        (async () => {
          const deadline = Date.now() + 30000;
          while (!String(sampler).includes(expected)) {
            if (Date.now() > deadline) { console.log('TIMEOUT ' + sampler); process.exit(2); }
            await new Promise(r => setTimeout(r, 50));
          }
          console.log('SAMPLER ' + sampler);
          const tracer = new BasicTracerProvider({ sampler }).getTracer('ariadne-test');
          for (const op of operations) {
            let recorded = 0;
            for (let i = 0; i < 2000; i++) { const span = tracer.startSpan(op); if (span.isRecording()) recorded++; span.end(); }
            console.log(`OP ${op}=${recorded}`);
          }
          process.exit(0);
        })();
        """;

    private NpmProject _project = null!;

    public async Task InitializeAsync() => _project = await NpmProject.CreateAsync(
        new Dictionary<string, string> { ["sampler.js"] = Script },
        "@opentelemetry/sampler-jaeger-remote@0.222.0", "@opentelemetry/sdk-trace-base@2.12.1", "@opentelemetry/api@1.9.1");

    /// <summary>Runs the script; returns the sampler's description and recorded spans per operation.</summary>
    public async Task<(string Sampler, Dictionary<string, int> Recorded)> RunAsync(Uri endpoint, string service, string expected, params string[] operations)
    {
        var (code, output) = await _project.NodeAsync("sampler.js", [endpoint.ToString().TrimEnd('/'), service, expected, .. operations]);
        Assert.True(code == 0, $"node exited with {code}: {output}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sampler = lines.Single(l => l.StartsWith("SAMPLER ", StringComparison.Ordinal))["SAMPLER ".Length..];
        var recorded = lines.Where(l => l.StartsWith("OP ", StringComparison.Ordinal))
            .Select(l => l[3..].Split('=', 2))
            .ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        return (sampler, recorded);
    }

    public Task DisposeAsync()
    {
        _project.Dispose();
        return Task.CompletedTask;
    }
}
