using System.Globalization;

namespace Ariadne.Sdk.Benchmarks;

/// <summary>
/// CPU time of a process and of each of its threads, from /proc (Linux): user + system, in clock ticks of 10 ms.
/// Thread names are the kernel's, cut to 15 characters (".NET TP Worker", "OpenTelemetry-B" for a batch export
/// processor, "OpenTelemetry-P" for the periodic metric reader).
/// </summary>
internal sealed record ProcessCpu(double ProcessMs, IReadOnlyDictionary<int, (string Name, double Ms)> Threads)
{
    public const string EndedThreads = "(ended threads)";

    private const double MsPerTick = 10;

    public static ProcessCpu? Read(int processId)
    {
        try
        {
            var threads = new Dictionary<int, (string, double)>();
            foreach (var task in Directory.EnumerateDirectories($"/proc/{processId}/task"))
            {
                if (Parse(ReadOrNull(Path.Combine(task, "stat"))) is { } thread)
                {
                    threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = thread;
                }
            }

            return Parse(ReadOrNull($"/proc/{processId}/stat")) is { } process ? new ProcessCpu(process.Ms, threads) : null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// CPU spent between <paramref name="before"/> and <paramref name="after"/>, by thread name; time of threads that
    /// ended meanwhile (the process's total keeps it, their /proc entries are gone) is under "(ended threads)".
    /// </summary>
    public static Dictionary<string, double> ByThreadName(ProcessCpu before, ProcessCpu after)
    {
        var byName = new Dictionary<string, double>(StringComparer.Ordinal);
        var accounted = 0.0;
        foreach (var (id, (name, ms)) in after.Threads)
        {
            var spent = ms - (before.Threads.TryGetValue(id, out var earlier) ? earlier.Ms : 0);
            byName[name] = byName.GetValueOrDefault(name) + spent;
            accounted += spent;
        }

        var ended = after.ProcessMs - before.ProcessMs - accounted;
        if (ended > 0)
        {
            byName[EndedThreads] = ended;
        }

        return byName;
    }

    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    // "pid (comm) state ppid ..." where comm may hold spaces and parentheses: fields are counted after the last ')'.
    private static (string Name, double Ms)? Parse(string? stat)
    {
        if (stat is null)
        {
            return null;
        }

        var open = stat.IndexOf('(', StringComparison.Ordinal);
        var close = stat.LastIndexOf(')');
        var fields = stat[(close + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (stat[(open + 1)..close], ticks * MsPerTick);
    }
}
