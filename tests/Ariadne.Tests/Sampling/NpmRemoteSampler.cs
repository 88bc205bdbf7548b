using System.Diagnostics;

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

    private string _directory = null!;

    public async Task InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("ariadne-npm-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_directory, "package.json"), """{ "name": "ariadne-sampler-test", "version": "1.0.0", "private": true }""");
        await File.WriteAllTextAsync(Path.Combine(_directory, "sampler.js"), Script);
        var (code, output) = await RunAsync("npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
            "@opentelemetry/sampler-jaeger-remote@0.222.0", "@opentelemetry/sdk-trace-base@2.12.1", "@opentelemetry/api@1.9.1");
        if (code != 0)
        {
            throw new InvalidOperationException($"npm install failed ({code}): {output}");
        }
    }

    /// <summary>Runs the script; returns the sampler's description and recorded spans per operation.</summary>
    public async Task<(string Sampler, Dictionary<string, int> Recorded)> RunAsync(Uri endpoint, string service, string expected, params string[] operations)
    {
        var (code, output) = await RunAsync("node", ["sampler.js", endpoint.ToString().TrimEnd('/'), service, expected, .. operations]);
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
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    private async Task<(int Code, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
