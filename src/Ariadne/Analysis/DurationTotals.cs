using Prometheus;

namespace Ariadne.Analysis;

/// <summary>
/// A duration histogram's buckets (<see cref="SpanMetricsAggregator.DurationBuckets"/>) and sum since start, kept
/// beside its prometheus-net child, which exposes neither, so an aggregator can checkpoint the histogram and put it
/// back. Not thread-safe: callers lock.
/// </summary>
internal sealed class DurationTotals
{
    private readonly long[] _buckets = new long[SpanMetricsAggregator.BucketCount];

    public long SumNanos { get; private set; }

    public void Add(long durationNanos) => Add(SpanMetricsAggregator.BucketOf(durationNanos), durationNanos);

    public void Add(int bucket, long durationNanos)
    {
        _buckets[bucket]++;
        SumNanos += durationNanos;
    }

    public void Write(BinaryWriter writer)
    {
        foreach (var count in _buckets)
        {
            writer.Write(count);
        }

        writer.Write(SumNanos);
    }

    /// <summary>Adds what <see cref="Write"/> wrote, here and into <paramref name="child"/>; returns the sum read.</summary>
    public long Read(BinaryReader reader, Histogram.Child child)
    {
        Span<long> buckets = stackalloc long[_buckets.Length];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = reader.ReadInt64();
            _buckets[i] += buckets[i];
        }

        var sum = reader.ReadInt64();
        SumNanos += sum;
        Replay(child, buckets, sum);
        return sum;
    }

    /// <summary>
    /// A prometheus-net child can only be observed into: one observation per non-empty bucket with that bucket's
    /// count, at a value inside the bucket chosen so that the values add up to the saved sum. Buckets and sum then
    /// read as before the restart (the sum to floating-point rounding).
    /// </summary>
    private static void Replay(Histogram.Child child, ReadOnlySpan<long> buckets, long sumNanos)
    {
        var bounds = SpanMetricsAggregator.DurationBuckets;
        Span<double> values = stackalloc double[buckets.Length];
        var remaining = sumNanos / 1e9;
        for (var i = 0; i < buckets.Length; i++)
        {
            // Bucket i holds (bound[i-1], bound[i]]: start just above its lower bound.
            values[i] = i == 0 ? 0 : Math.BitIncrement(bounds[i - 1]);
            remaining -= values[i] * buckets[i];
        }

        // Raise the values from the top bucket down until they carry the whole sum, each within its bucket.
        for (var i = buckets.Length - 1; i >= 0 && remaining > 0; i--)
        {
            if (buckets[i] == 0)
            {
                continue;
            }

            var room = i < bounds.Length ? (bounds[i] - values[i]) * buckets[i] : double.PositiveInfinity;
            var take = Math.Min(remaining, room);
            values[i] += take / buckets[i];
            remaining -= take;
        }

        for (var i = 0; i < buckets.Length; i++)
        {
            if (buckets[i] > 0)
            {
                child.Observe(values[i], buckets[i]);
            }
        }
    }
}
