using System.Diagnostics;
using System.Globalization;

namespace Ariadne.Tests.Infrastructure;

/// <summary>
/// A server binary started by a test or a fixture: its output (stdout and stderr as they arrive) kept line by line for
/// waits and failure messages, signalled and stopped by its own PID.
/// </summary>
public sealed class ExternalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _command;
    private readonly List<string> _lines = [];
    private readonly List<(string Prefix, TaskCompletionSource<string> Found)> _waiters = [];

    private ExternalProcess(Process process, string command)
    {
        _process = process;
        _command = command;
    }

    /// <summary>The lines it has written so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public string Output => string.Join(Environment.NewLine, Lines);

    public bool HasExited => _process.HasExited;

    /// <param name="unset">Environment variables of the test process that <paramref name="fileName"/> does not inherit.</param>
    public static ExternalProcess Start(
        string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null, IEnumerable<string>? unset = null)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        foreach (var key in unset ?? [])
        {
            start.Environment.Remove(key);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        var wrapper = new ExternalProcess(process, $"{fileName} {string.Join(' ', start.ArgumentList)}");
        process.OutputDataReceived += (_, e) => wrapper.Append(e.Data);
        process.ErrorDataReceived += (_, e) => wrapper.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>
    /// The first line, already written or still to come, that starts with <paramref name="prefix"/> after its
    /// indentation. Throws, with the output, if the process exits or <paramref name="timeout"/> passes first.
    /// </summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            if (_lines.FirstOrDefault(line => Starts(line, prefix)) is { } written)
            {
                return written;
            }

            _waiters.Add((prefix, found));
        }

        // WaitForExitAsync ends once the output is read to its end, so a last line is seen before the exit is.
        await Task.WhenAny(found.Task, _process.WaitForExitAsync(), Task.Delay(timeout));
        lock (_lines)
        {
            _waiters.Remove((prefix, found));
        }

        if (found.Task.IsCompleted)
        {
            return await found.Task;
        }

        throw new TimeoutException(_process.HasExited
            ? $"{_command} exited with code {_process.ExitCode} before writing a line starting with '{prefix}':{Environment.NewLine}{Output}"
            : $"{_command} wrote no line starting with '{prefix}' within {timeout}:{Environment.NewLine}{Output}");
    }

    /// <summary>
    /// SIGINT, as Ctrl+C in a terminal. A test run started in the background by a shell without job control
    /// (`nohup bash .ci/run &amp;`) has SIGINT ignored, and the process inherits that: then SIGTERM, which Ariadne's
    /// commands handle the same way.
    /// </summary>
    public Task InterruptAsync() => SignalAsync(SigIntIgnored() ? "-TERM" : "-INT");

    /// <summary>SIGTERM, as a service manager stops a server.</summary>
    public Task TerminateAsync() => SignalAsync("-TERM");

    /// <summary>The exit code once the process has stopped; throws, with the output, if it runs past <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{_command} did not exit within {timeout}:{Environment.NewLine}{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>SIGTERM, so the server shuts down cleanly; SIGKILL to it and its children if it has not within the grace period.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await TerminateAsync();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
    }

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>Whether this process ignores SIGINT (bit 2 of SigIgn in /proc/self/status).</summary>
    private static bool SigIntIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0x2) != 0;
    }

    private static bool Starts(string line, string prefix) => line.TrimStart().StartsWith(prefix, StringComparison.Ordinal);

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
            foreach (var (prefix, found) in _waiters)
            {
                if (Starts(line, prefix))
                {
                    found.TrySetResult(line);
                }
            }
        }
    }
}
