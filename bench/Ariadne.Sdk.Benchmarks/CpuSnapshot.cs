using System.Globalization;
using Ariadne.Demo;

namespace Ariadne.Sdk.Benchmarks;

/// <summary>
/// The CPU time of every process of both shops at one moment. Two snapshots around the measured checkouts give the
/// CPU each service spends per checkout with and without tracing, and which of the traced copy's threads spend the
/// difference: the critical path (thread-pool workers running requests) or the exporters' own threads.
/// </summary>
internal sealed class CpuSnapshot
{
    private const string JitThread = ".NET Tiered Com";

    private readonly Dictionary<string, ProcessCpu> _traced;
    private readonly Dictionary<string, ProcessCpu> _untraced;

    private CpuSnapshot(Dictionary<string, ProcessCpu> traced, Dictionary<string, ProcessCpu> untraced)
    {
        _traced = traced;
        _untraced = untraced;
    }

    public static CpuSnapshot Take(DemoShop traced, DemoShop untraced) => new(Read(traced), Read(untraced));

    /// <summary>Whether /proc gave the processes' CPU (Linux).</summary>
    public bool CanTellJit => _traced.Count > 0 && _untraced.Count > 0;

    /// <summary>The larger of the two shops' shares of CPU spent on the JIT's tier-up thread since this snapshot.</summary>
    public double JitShare(CpuSnapshot after) => Math.Max(JitShare(_traced, after._traced), JitShare(_untraced, after._untraced));

    /// <summary>
    /// The one-time cost of the warm-up, mostly the JIT: OpenTelemetry's assemblies are not precompiled, so the traced
    /// shop compiles thousands more methods, and compiles its hot ones again when they are promoted to tier 1.
    /// </summary>
    public void PrintWarmup(CpuSnapshot after, int checkouts)
    {
        string Line(string shop, Dictionary<string, ProcessCpu> before, Dictionary<string, ProcessCpu> later)
        {
            double total = 0, jit = 0, ended = 0;
            foreach (var (service, start) in before)
            {
                if (later.TryGetValue(service, out var end))
                {
                    total += end.ProcessMs - start.ProcessMs;
                    var threads = ProcessCpu.ByThreadName(start, end);
                    jit += threads.GetValueOrDefault(JitThread);
                    ended += threads.GetValueOrDefault(ProcessCpu.EndedThreads);
                }
            }

            return string.Create(CultureInfo.InvariantCulture, $"{shop} {total / 1000:F1} s CPU ({jit / 1000:F1} s on the JIT's tier-up thread, {ended / 1000:F1} s on threads that ended, the tier-up thread among them when it went idle)");
        }

        Console.WriteLine($"Warm-up, {checkouts} checkouts each: {Line("untraced", _untraced, after._untraced)}; {Line("traced", _traced, after._traced)}.");
        Console.WriteLine();
    }

    public void PrintPerCheckout(CpuSnapshot after, int checkouts)
    {
        if (_traced.Count == 0 || checkouts == 0)
        {
            Console.WriteLine("CPU per checkout: not available (needs Linux /proc)");
            return;
        }

        Console.WriteLine($"CPU per checkout by service (user + system, from /proc over the {checkouts} measured checkouts of each shop; 10 ms ticks):");
        Console.WriteLine("| service | untraced ms | traced ms | difference ms |");
        Console.WriteLine("|---|--:|--:|--:|");
        double untracedTotal = 0, tracedTotal = 0;
        var tracedThreads = new Dictionary<string, double>(StringComparer.Ordinal);
        var untracedThreads = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var service in DemoShop.Services)
        {
            if (!_traced.TryGetValue(service, out var tracedBefore) || !after._traced.TryGetValue(service, out var tracedAfter)
                || !_untraced.TryGetValue(service, out var untracedBefore) || !after._untraced.TryGetValue(service, out var untracedAfter))
            {
                continue;
            }

            var u = (untracedAfter.ProcessMs - untracedBefore.ProcessMs) / checkouts;
            var t = (tracedAfter.ProcessMs - tracedBefore.ProcessMs) / checkouts;
            untracedTotal += u;
            tracedTotal += t;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {service} | {u:F3} | {t:F3} | {t - u:+0.000;-0.000} |"));
            Add(tracedThreads, ProcessCpu.ByThreadName(tracedBefore, tracedAfter));
            Add(untracedThreads, ProcessCpu.ByThreadName(untracedBefore, untracedAfter));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| all six | {untracedTotal:F3} | {tracedTotal:F3} | {tracedTotal - untracedTotal:+0.000;-0.000} |"));
        Console.WriteLine();
        Console.WriteLine("The same, by thread name over the six services (kernel names, 15 characters):");
        Console.WriteLine("| thread | untraced ms | traced ms | difference ms |");
        Console.WriteLine("|---|--:|--:|--:|");
        foreach (var name in tracedThreads.Keys.Union(untracedThreads.Keys).OrderByDescending(n => Math.Abs(tracedThreads.GetValueOrDefault(n) - untracedThreads.GetValueOrDefault(n))))
        {
            var u = untracedThreads.GetValueOrDefault(name) / checkouts;
            var t = tracedThreads.GetValueOrDefault(name) / checkouts;
            if (u > 0 || t > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {u:F3} | {t:F3} | {t - u:+0.000;-0.000} |"));
            }
        }
    }

    private static double JitShare(Dictionary<string, ProcessCpu> before, Dictionary<string, ProcessCpu> after)
    {
        double total = 0, jit = 0;
        foreach (var (service, start) in before)
        {
            if (after.TryGetValue(service, out var end))
            {
                total += end.ProcessMs - start.ProcessMs;
                // A tier-up thread that went idle and ended within the block left its time to the ended threads:
                // counted as JIT too, so that the warm-up errs on the long side.
                var threads = ProcessCpu.ByThreadName(start, end);
                jit += threads.GetValueOrDefault(JitThread) + threads.GetValueOrDefault(ProcessCpu.EndedThreads);
            }
        }

        return total > 0 ? jit / total : 0;
    }

    private static void Add(Dictionary<string, double> into, Dictionary<string, double> from)
    {
        foreach (var (name, ms) in from)
        {
            into[name] = into.GetValueOrDefault(name) + ms;
        }
    }

    private static Dictionary<string, ProcessCpu> Read(DemoShop shop)
    {
        var cpu = new Dictionary<string, ProcessCpu>(StringComparer.Ordinal);
        foreach (var (service, processId) in shop.ProcessIds)
        {
            if (ProcessCpu.Read(processId) is { } read)
            {
                cpu[service] = read;
            }
        }

        return cpu;
    }
}
