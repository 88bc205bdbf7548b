using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Ariadne.Tests.Infrastructure;

/// <summary>
/// The real `ariadne serve` (the build output next to the tests) as a child process on free ports, for what only
/// a real process shows: SIGKILL, resource limits. The shell that starts it applies <c>shellSetup</c> and then
/// execs the server, so the process id is the server's.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public Uri Query { get; private set; } = null!;

    public Uri OtlpHttp { get; private set; } = null!;

    public Uri OtlpGrpc { get; private set; } = null!;

    /// <summary>What the server wrote so far (stdout and stderr), for assertion messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="arguments">More flags for `ariadne serve` (storage, cluster).</param>
    /// <param name="queryPort">The query port, when others must know it before the server starts (regions); 0: a free one.</param>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, string shellSetup = "", string arguments = "", int queryPort = 0)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "ariadne.dll");
        var command = $"{shellSetup} exec dotnet '{dll}' serve --data '{dataDirectory}' --listen-address 127.0.0.1 " +
            $"--otlp-grpc-port 0 --otlp-http-port 0 --zipkin-port 0 --query-port {queryPort} --sampling-port 0 " +
            $"--jaeger-thrift-http-port 0 --jaeger-grpc-port 0 --jaeger-compact-port 0 --jaeger-binary-port 0 --tempo-port 0 {arguments}";
        var start = new ProcessStartInfo("/bin/bash", ["-c", command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dataDirectory,
        };
        var server = new ServerProcess(Process.Start(start)!);
        var up = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        server._process.OutputDataReceived += (_, e) => server.Record(e.Data, up);
        server._process.ErrorDataReceived += (_, e) => server.Record(e.Data, up);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        var exited = server._process.WaitForExitAsync();
        if (await Task.WhenAny(up.Task, exited, Task.Delay(TimeSpan.FromMinutes(2))) != up.Task)
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"ariadne serve did not come up:{Environment.NewLine}{server.Output}");
        }

        var line = await up.Task;
        server.Query = new Uri($"http://127.0.0.1:{Port(line, QueryPort())}");
        server.OtlpHttp = new Uri($"http://127.0.0.1:{Port(line, OtlpHttpPort())}");
        server.OtlpGrpc = new Uri($"http://127.0.0.1:{Port(line, OtlpGrpcPort())}");
        return server;
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as a service manager stops the server; returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private void Record(string? line, TaskCompletionSource<string> up)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.StartsWith("Ariadne is up:", StringComparison.Ordinal))
        {
            up.TrySetResult(line);
        }
    }

    private static int Port(string line, Regex pattern) => int.Parse(pattern.Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"query API http://localhost:(\d+)")]
    private static partial Regex QueryPort();

    [GeneratedRegex(@"OTLP HTTP :(\d+)")]
    private static partial Regex OtlpHttpPort();

    [GeneratedRegex(@"OTLP gRPC :(\d+)")]
    private static partial Regex OtlpGrpcPort();
}
