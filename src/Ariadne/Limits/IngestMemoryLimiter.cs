namespace Ariadne.Limits;

/// <summary>
/// The server-wide bounds on ingest memory, after the OTel Collector's memory_limiter: the bytes of requests
/// being received and decoded (as sent, from Content-Length or the gRPC frame header, so a request is refused
/// before its body is read), and the GC heap as of the last collection. Over either bound, new requests are
/// refused with a retry delay; requests already admitted finish.
/// </summary>
public sealed class IngestMemoryLimiter
{
    private static readonly long s_heapSampleMillis = 100;

    private readonly long _maxInFlightBytes;
    private readonly long _maxHeapBytes;
    private long _inFlightBytes;
    private long _heapSampledAt;
    private long _heapBytes;

    public IngestMemoryLimiter(LimitsOptions options)
    {
        _maxInFlightBytes = options.MaxInFlightBytes;
        _maxHeapBytes = options.MaxHeapBytes > 0 ? options.MaxHeapBytes
            : options.MaxHeapPercent > 0 ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 100 * options.MaxHeapPercent
            : long.MaxValue;
    }

    public long InFlightBytes => Volatile.Read(ref _inFlightBytes);

    /// <summary>Whether the GC heap is over its bound. Sampled at most every 100 ms: reading it is not free.</summary>
    public bool IsHeapOverLimit()
    {
        if (_maxHeapBytes == long.MaxValue)
        {
            return false;
        }

        var now = Environment.TickCount64;
        var sampledAt = Volatile.Read(ref _heapSampledAt);
        if (sampledAt == 0 || now - sampledAt >= s_heapSampleMillis)
        {
            Volatile.Write(ref _heapBytes, GC.GetGCMemoryInfo().HeapSizeBytes);
            Volatile.Write(ref _heapSampledAt, now);
        }

        return Volatile.Read(ref _heapBytes) > _maxHeapBytes;
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
}
