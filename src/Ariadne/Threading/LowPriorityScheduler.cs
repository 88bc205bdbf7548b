using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Ariadne.Threading;

/// <summary>
/// Runs tasks on threads of its own that the operating system schedules after the rest of the process: on Linux
/// each thread raises its nice value (a thread may always lower its own priority), elsewhere it takes
/// <see cref="ThreadPriority.BelowNormal"/>. Work that can wait (ingest requests, block cuts, compaction) runs here,
/// so that while it saturates the cores the thread pool's work (queries, the UI, health probes) still gets the CPU
/// whenever it has something to do: at nice 10 a thread's share against a normal one is about one to nine.
/// The work is not slower when nothing else wants the cores; nice only orders threads competing for them.
/// A task started here keeps running here across its awaits (they resume on <see cref="TaskScheduler.Current"/>)
/// until one of them uses ConfigureAwait(false). Code run here must never block waiting for other work scheduled
/// here, since the threads are few.
/// </summary>
public sealed class LowPriorityScheduler : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _queue = [];
    private readonly Thread[] _threads;
    private readonly int _nice;

    /// <param name="nice">The nice value the threads take on Linux: 1 to 19, the lowest priority.</param>
    public LowPriorityScheduler(string name, int threads, int nice)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(nice, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nice, 19);
        _nice = nice;
        _threads = new Thread[threads];
        for (var i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"{name} {i + 1}" };
            _threads[i].Start();
        }
    }

    public override int MaximumConcurrencyLevel => _threads.Length;

    /// <summary>Runs <paramref name="work"/> here and completes with it.</summary>
    public Task RunAsync(Func<Task> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    /// <summary>Runs <paramref name="work"/> here and completes with it.</summary>
    public Task RunAsync(Action work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this);

    /// <summary>Stops taking work; the threads end once the queue is empty.</summary>
    public void Dispose() => _queue.CompleteAdding();

    protected override void QueueTask(Task task) => _queue.Add(task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Array.IndexOf(_threads, Thread.CurrentThread) >= 0 && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => [.. _queue];

    private void Work()
    {
        LowerThisThread();
        foreach (var task in _queue.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }
    }

    private void LowerThisThread()
    {
        if (OperatingSystem.IsLinux())
        {
            // PRIO_PROCESS with a thread id sets that one thread's nice value (Linux threads are scheduled alone).
            // Failing is harmless: the work then runs at normal priority, as it would on the thread pool.
            _ = NativeMethods.SetPriority(0, NativeMethods.GetTid(), _nice);
        }
        else
        {
            Thread.CurrentThread.Priority = ThreadPriority.BelowNormal;
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int SetPriority(int which, int who, int prio);

        [DllImport("libc", EntryPoint = "gettid")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int GetTid();
    }
}
