using System.Collections.Concurrent;
using Xunit.Abstractions;

namespace Ariadne.Tests.Reliability;

/// <summary>
/// Fault injection in the way SQLite tests itself: a counting run learns how many durable steps of each kind
/// (write, fsync, rename, delete) the scenario takes, then the scenario runs again once per step and per fault that
/// step can meet (EIO and ENOSPC everywhere, a torn write for writes), and two restarts check what a client was told
/// (<see cref="FaultScenario"/>). docs/RELIABILITY.md lists the matrix.
/// </summary>
public sealed class FaultInjectionTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ariadne-fault-").FullName;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task After_a_failed_write_fsync_rename_or_delete_at_any_step_a_restart_serves_every_acknowledged_span_once(bool tailSampling)
    {
        var counting = new FaultyFiles();
        var baseline = await new FaultScenario(tailSampling, Path.Combine(_root, "count")).RunAsync(counting);
        Assert.True(baseline.Count == 0, "without a fault: " + string.Join(Environment.NewLine, baseline));
        foreach (var step in Enum.GetValues<FileStep>())
        {
            Assert.True(counting.Count(step) > 0, $"the scenario takes no {step} step: {string.Join(", ", counting.Steps)}");
        }

        var plans = Plans(counting).ToList();
        output.WriteLine($"{plans.Count} injections: " + string.Join(", ", Enum.GetValues<FileStep>().Select(s => $"{counting.Count(s)} {s}")));
        var failures = new ConcurrentBag<string>();
        var injected = 0;
        await Parallel.ForEachAsync(plans, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (plan, _) =>
        {
            var files = new FaultyFiles(plan);
            var directory = Path.Combine(_root, $"{plan.Step}-{plan.Nth}-{plan.Fault}");
            try
            {
                var problems = await new FaultScenario(tailSampling, directory).RunAsync(files);
                foreach (var problem in problems)
                {
                    failures.Add($"{files.Injected ?? plan + " (not reached)"}: {problem}");
                }
            }
            catch (Exception e)
            {
                failures.Add($"{files.Injected ?? plan + " (not reached)"}: {e}");
            }

            if (files.Injected is not null)
            {
                Interlocked.Increment(ref injected);
            }

            Directory.Delete(directory, recursive: true);
        });

        Assert.True(failures.IsEmpty, $"{failures.Count} of {plans.Count} injections went wrong:{Environment.NewLine}{string.Join(Environment.NewLine, failures.Order(StringComparer.Ordinal))}");
        // Background loops may shift a step by one between runs; nearly every planned fault must still have fired.
        Assert.True(injected >= plans.Count * 9 / 10, $"only {injected} of {plans.Count} planned faults were reached");
    }

    /// <summary>
    /// Every step of the counting run, with the faults that take a different path through the code: a write(2)
    /// fails whole (ENOSPC) or torn; creating or truncating a file fails with ENOSPC; fsync, rename and delete with
    /// EIO. (The code sees EIO and ENOSPC as the same IOException, so running both at one step would only repeat it.)
    /// </summary>
    private static IEnumerable<FaultPlan> Plans(FaultyFiles counting)
    {
        foreach (var step in Enum.GetValues<FileStep>())
        {
            var names = counting.Names(step);
            for (var n = 1; n <= names.Count; n++)
            {
                if (step != FileStep.Write)
                {
                    yield return new FaultPlan(step, n, FileFault.Eio);
                    continue;
                }

                yield return new FaultPlan(step, n, FileFault.Enospc);
                if (names[n - 1] == "write")
                {
                    yield return new FaultPlan(step, n, FileFault.TornWrite);
                }
            }
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner.
        }
    }
}
