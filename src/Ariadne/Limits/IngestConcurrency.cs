using Ariadne.Threading;

namespace Ariadne.Limits;

/// <summary>
/// How many ingest requests are read, decoded and appended at once, all listeners together, and at what priority.
/// The others wait their turn without holding a thread (their bodies stay in the socket, their bytes counted by the
/// memory bound). The bound is well above the core count because each admitted request also waits for its
/// group-committed fsync, and the commit groups whatever is admitted meanwhile. Admitted requests run on threads of
/// their own at a lower operating-system priority (<see cref="LowPriorityScheduler"/>, <see cref="LimitsOptions.IngestNice"/>),
/// one per core, so a load generator that saturates the machine leaves the thread pool to the queries, and the
/// cores to them whenever they have work: ingest takes what the queries leave.
/// </summary>
public sealed class IngestConcurrency(LimitsOptions options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.ConcurrentIngestRequests, options.ConcurrentIngestRequests);
    private readonly LowPriorityScheduler? _scheduler =
        options.IngestNice > 0 ? new("ariadne ingest", Environment.ProcessorCount, options.IngestNice) : null;

    /// <summary>Waits for a slot; release it with <see cref="Exit"/> once the request is answered.</summary>
    public Task EnterAsync(CancellationToken cancellationToken) => _slots.WaitAsync(cancellationToken);

    /// <summary>Runs an admitted request's work (reading, decoding, appending, answering) at ingest priority.</summary>
    public Task RunAsync(Func<Task> work) => _scheduler is null ? work() : _scheduler.RunAsync(work);

    public void Exit() => _slots.Release();

    public void Dispose()
    {
        _scheduler?.Dispose();
        _slots.Dispose();
    }
}
