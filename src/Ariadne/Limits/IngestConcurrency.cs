namespace Ariadne.Limits;

/// <summary>
/// How many ingest requests are read, decoded and appended at once, all listeners together. The others wait their
/// turn without holding a thread (their bodies stay in the socket, their bytes counted by the memory bound), so a
/// load generator with many connections cannot fill the thread pool with decoding and starve the queries: they run
/// between at most this many ingest work items. The bound is well above the core count because each admitted
/// request also waits for its group-committed fsync, and the commit groups whatever is admitted meanwhile.
/// </summary>
public sealed class IngestConcurrency(LimitsOptions options)
{
    private readonly SemaphoreSlim _slots = new(options.ConcurrentIngestRequests, options.ConcurrentIngestRequests);

    /// <summary>Waits for a slot; release it with <see cref="Exit"/> once the request is answered.</summary>
    public Task EnterAsync(CancellationToken cancellationToken) => _slots.WaitAsync(cancellationToken);

    public void Exit() => _slots.Release();
}
