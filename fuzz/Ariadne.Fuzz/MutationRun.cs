using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Ariadne.Fuzzing;

namespace Ariadne.Fuzz;

/// <summary>
/// The in-process mutation fuzzer at length: the CI test's mutations (<see cref="Mutator"/>), run for a number of
/// executions instead of a few thousand, on the target's seeds, the kept corpus, and inputs that mutations turned
/// into other valid payloads (one in 16 accepted inputs joins the pool, up to 1,024), so damage stacks up. No
/// coverage guidance (the afl mode of scripts/fuzz.sh has it), but about a hundred times afl's rate on .NET. An
/// exception other than the target's documented refusal is a crash; an input that takes over a second of the fuzzing
/// thread's CPU is a hang (CPU, not wall time: on a busy machine a preempted or GC-paused decode is not slow).
/// Each is written to the findings directory, to replay with <c>Ariadne.Fuzz &lt;file&gt;</c> and keep under
/// tests/Ariadne.Tests/Fuzzing/Fixtures/&lt;target&gt;/.
/// </summary>
internal static class MutationRun
{
    private const int PoolLimit = 1_024;
    private const int PoolInputLimit = 1 << 20;
    private static readonly TimeSpan s_progressEvery = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_hang = TimeSpan.FromSeconds(1);

    public static int Run(FuzzTarget target, long executions, int seed, string corpus, string findings)
    {
        var pool = new List<byte[]>(target.Seeds(Model.TraceId.FromBytes([.. Enumerable.Range(1, 16).Select(i => (byte)i)])));
        if (Directory.Exists(corpus))
        {
            pool.AddRange(Directory.GetFiles(corpus).Select(File.ReadAllBytes));
        }

        var mutator = new Mutator(seed);
        var random = new Random(seed);
        long refused = 0, crashes = 0, hangs = 0;
        var slowest = TimeSpan.Zero;
        var started = Stopwatch.StartNew();
        var reported = TimeSpan.Zero;
        for (long i = 0; i < executions; i++)
        {
            var input = mutator.Mutate(pool[random.Next(pool.Count)]);
            var before = ThreadCpu();
            try
            {
                if (!target.Decode(input))
                {
                    refused++;
                }
                else if (pool.Count < PoolLimit && input.Length <= PoolInputLimit && random.Next(16) == 0)
                {
                    pool.Add(input);
                }
            }
            catch (Exception e)
            {
                crashes++;
                Keep(findings, $"crash-{crashes}", input, $"{e.GetType().Name}: {e.Message} (mutation {mutator.Last}, seed {seed}, execution {i})");
            }

            var cpu = ThreadCpu() - before;
            slowest = cpu > slowest ? cpu : slowest;
            if (cpu > s_hang)
            {
                hangs++;
                Keep(findings, $"hang-{hangs}", input, $"took {cpu.TotalSeconds:F1} s of CPU (seed {seed}, execution {i})");
            }

            var now = started.Elapsed;

            if (now - reported >= s_progressEvery)
            {
                reported = now;
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{target.Name}: {i + 1:N0} of {executions:N0} executions ({(i + 1) / now.TotalSeconds:N0}/s), {100.0 * refused / (i + 1):F0}% refused as malformed, {crashes} crashes, {hangs} hangs, pool {pool.Count}"));
            }
        }

        var seconds = Math.Max(started.Elapsed.TotalSeconds, 1e-3);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{target.Name}: {executions} executions in {seconds:F0} s ({executions / seconds:F0}/s), {crashes} crashes, {hangs} hangs, {100.0 * refused / Math.Max(executions, 1):F0}% refused as malformed, slowest input {slowest.TotalMilliseconds:F1} ms of CPU"));
        return crashes + hangs == 0 ? 0 : 1;
    }

    /// <summary>
    /// Decodes every file of a directory once (the findings of a run on a busy machine, say) and reports the crashes,
    /// the hangs by the same measure as <see cref="Run"/>, and the slowest file's CPU.
    /// </summary>
    public static int Replay(FuzzTarget target, string directory)
    {
        long files = 0, refused = 0, crashes = 0, hangs = 0;
        var slowest = (Cpu: TimeSpan.Zero, File: string.Empty);
        foreach (var file in Directory.GetFiles(directory).Order(StringComparer.Ordinal))
        {
            var input = File.ReadAllBytes(file);
            files++;
            var before = ThreadCpu();
            try
            {
                refused += target.Decode(input) ? 0 : 1;
            }
            catch (Exception e)
            {
                crashes++;
                Console.Error.WriteLine($"{file}: {e.GetType().Name}: {e.Message}");
            }

            var cpu = ThreadCpu() - before;
            hangs += cpu > s_hang ? 1 : 0;
            slowest = cpu > slowest.Cpu ? (cpu, file) : slowest;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{target.Name}: {files} files of {directory} replayed, {refused} refused as malformed, {crashes} crashes, {hangs} hangs, slowest {slowest.Cpu.TotalMilliseconds:F1} ms of CPU ({Path.GetFileName(slowest.File)})"));
        return crashes + hangs == 0 ? 0 : 1;
    }

    /// <summary>CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID; Linux, where the fuzzer runs).</summary>
    private static TimeSpan ThreadCpu()
    {
        NativeMethods.ClockGetTime(NativeMethods.ThreadCpuClock, out var time);
        return TimeSpan.FromTicks((time.Seconds * TimeSpan.TicksPerSecond) + (time.Nanoseconds / 100));
    }

    private static void Keep(string findings, string name, byte[] input, string why)
    {
        Directory.CreateDirectory(findings);
        var path = Path.Combine(findings, name);
        File.WriteAllBytes(path, input);
        Console.Error.WriteLine($"{path}: {why}");
    }

    private static class NativeMethods
    {
        public const int ThreadCpuClock = 3;

        [DllImport("libc", EntryPoint = "clock_gettime")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int ClockGetTime(int clock, out TimeSpec time);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
