namespace Ariadne.Limits;

/// <summary>
/// The server-wide bounds on ingest memory, after the OTel Collector's memory_limiter: the bytes of requests
/// being received and decoded (as sent, from Content-Length or the gRPC frame header, so a request is refused
/// before its body is read), and the managed heap. Over either bound, new requests are refused with a retry delay;
/// requests already admitted finish.
/// <para>
/// The heap has a hard limit (Limits:MaxHeapBytes) and a soft one below it (less Limits:HeapSpikePercent). Ingest
/// is refused while the heap is over the soft limit. Over it, what holds memory is asked to give it back (the
/// tail sampler decides the traces it holds, the embedded engine cuts its head into blocks) and a full, compacting GC is forced: at most every 5 s over the soft
/// limit, every second over the hard one. Without the forced GC the server would refuse for ever: a refusing
/// server allocates little, so no full GC comes by itself, and the heap figure keeps the garbage of the burst.
/// </para>
/// </summary>
public sealed class IngestMemoryLimiter
{
    private const long CheckMillis = 100;
    private const long SoftGcMillis = 5_000;
    private const long HardGcMillis = 1_000;

    private readonly long _maxInFlightBytes;
    private readonly long _hardBytes;
    private readonly long _softBytes;
    private readonly Lock _reliefLock = new();
    private readonly List<Func<Task>> _relief = [];
    private long _inFlightBytes;
    private long _checkedAt;
    private long _heapBytes;
    private long _relievedAt = long.MinValue / 2;
    private int _relieving;

    public IngestMemoryLimiter(LimitsOptions options)
    {
        _maxInFlightBytes = options.MaxInFlightBytes;
        _hardBytes = options.MaxHeapBytes > 0 ? options.MaxHeapBytes
            : options.MaxHeapPercent > 0 ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 100 * options.MaxHeapPercent
            : long.MaxValue;
        _softBytes = _hardBytes == long.MaxValue ? long.MaxValue : _hardBytes - (_hardBytes / 100 * options.HeapSpikePercent);
    }

    public long InFlightBytes => Volatile.Read(ref _inFlightBytes);

    /// <summary>
    /// Registers something that holds ingested data in memory and can give it back (decide and hand on, write it out,
    /// drop a cache); called when the heap is over the soft limit, before the forced GC, one after the other in the
    /// order added (the tail sampler hands kept traces to the head before the head is cut).
    /// </summary>
    public void AddRelief(Func<Task> relieve)
    {
        lock (_reliefLock)
        {
            _relief.Add(relieve);
        }
    }

    /// <summary>
    /// Whether the heap is over the soft limit. Measured at most every 100 ms (reading it is not free), as allocated
    /// bytes including garbage not yet collected, as the memory_limiter reads Go's heap: over the soft limit a GC
    /// is forced, in the background, so the next reading shows what is really held.
    /// </summary>
    public bool IsHeapOverLimit()
    {
        if (_hardBytes == long.MaxValue)
        {
            return false;
        }

        var now = Environment.TickCount64;
        var checkedAt = Volatile.Read(ref _checkedAt);
        if (checkedAt == 0 || now - checkedAt >= CheckMillis)
        {
            Volatile.Write(ref _checkedAt, now);
            var heap = GC.GetTotalMemory(forceFullCollection: false);
            Volatile.Write(ref _heapBytes, heap);
            if (heap > _softBytes)
            {
                StartRelief(now, heap > _hardBytes ? HardGcMillis : SoftGcMillis);
            }
        }

        return Volatile.Read(ref _heapBytes) > _softBytes;
    }

    /// <summary>
    /// Reserves the bytes of a request for as long as it is handled. A request alone in flight is always admitted,
    /// so a bound below Ingest:MaxRequestBytes slows big requests down instead of refusing them for ever.
    /// </summary>
    public bool TryReserve(long bytes)
    {
        var total = Interlocked.Add(ref _inFlightBytes, bytes);
        if (total > _maxInFlightBytes && total != bytes)
        {
            Interlocked.Add(ref _inFlightBytes, -bytes);
            return false;
        }

        return true;
    }

    public void Release(long bytes) => Interlocked.Add(ref _inFlightBytes, -bytes);

    private void StartRelief(long now, long minInterval)
    {
        if (now - Volatile.Read(ref _relievedAt) < minInterval || Interlocked.CompareExchange(ref _relieving, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                Func<Task>[] relief;
                lock (_reliefLock)
                {
                    relief = [.. _relief];
                }

                // A failed relief (a head cut that could not write) still leaves the next one and the GC to do what they can.
                foreach (var relieve in relief)
                {
                    await Task.Run(relieve).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                // Aggressive: compacts the large-object heap too (big strings live there) and returns the freed
                // memory to the OS, so RSS falls with the heap.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                Volatile.Write(ref _heapBytes, GC.GetTotalMemory(forceFullCollection: false));
            }
            finally
            {
                Volatile.Write(ref _relievedAt, Environment.TickCount64);
                Volatile.Write(ref _relieving, 0);
            }
        });
    }
}
