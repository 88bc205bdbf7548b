using Ariadne.Limits;
using Ariadne.Threading;

namespace Ariadne.Tests.Threading;

public sealed class LowPrioritySchedulerTests
{
    [Fact]
    public async Task Work_runs_at_the_given_nice_value_and_stays_there_across_awaits()
    {
        using var scheduler = new LowPriorityScheduler("test", 2, 7);
        var seen = new List<(int Nice, string? Thread)>();
        await scheduler.RunAsync(async () =>
        {
            seen.Add((CurrentNice(), Thread.CurrentThread.Name));
            await Task.Delay(10);
            seen.Add((CurrentNice(), Thread.CurrentThread.Name));
            await Task.Yield();
            seen.Add((CurrentNice(), Thread.CurrentThread.Name));
        });

        Assert.All(seen, s => Assert.StartsWith("test ", s.Thread, StringComparison.Ordinal));
        if (OperatingSystem.IsLinux())
        {
            Assert.All(seen, s => Assert.Equal(7, s.Nice));
        }

        // The thread pool's threads are untouched.
        await Task.Run(() => Assert.Equal(0, CurrentNice()));
    }

    [Fact]
    public async Task A_failure_in_the_work_reaches_the_caller()
    {
        using var scheduler = new LowPriorityScheduler("test", 1, 10);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => scheduler.RunAsync(async () =>
        {
            await Task.Yield();
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public async Task More_work_than_threads_all_completes()
    {
        using var scheduler = new LowPriorityScheduler("test", 2, 10);
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => scheduler.RunAsync(async () =>
        {
            await Task.Delay(1);
            Interlocked.Increment(ref done);
        })));
        Assert.Equal(50, done);
    }

    [Fact]
    public async Task Ingest_at_nice_zero_runs_where_it_is_called_and_above_zero_on_its_own_threads()
    {
        var caller = Environment.CurrentManagedThreadId;
        using (var normal = new IngestConcurrency(new LimitsOptions { IngestNice = 0 }))
        {
            var ran = 0;
            await normal.RunAsync(() =>
            {
                ran = Environment.CurrentManagedThreadId;
                return Task.CompletedTask;
            });
            Assert.Equal(caller, ran);
        }

        using var low = new IngestConcurrency(new LimitsOptions());
        string? name = null;
        await low.RunAsync(() =>
        {
            name = Thread.CurrentThread.Name;
            return Task.CompletedTask;
        });
        Assert.StartsWith("ariadne ingest", name, StringComparison.Ordinal);
    }

    [Fact]
    public void An_out_of_range_nice_value_is_refused_with_what_to_do()
    {
        var errors = new LimitsOptions { IngestNice = 20 }.Validate();
        Assert.Contains(errors, e => e.Contains("Limits:IngestNice", StringComparison.Ordinal) && e.Contains("between 0", StringComparison.Ordinal));
    }

    /// <summary>This thread's nice value: field 19 of /proc/thread-self/stat (0 where there is no procfs).</summary>
    private static int CurrentNice()
    {
        if (!File.Exists("/proc/thread-self/stat"))
        {
            return 0;
        }

        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture);
    }
}
