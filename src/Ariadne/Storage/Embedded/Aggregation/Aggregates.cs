using System.Numerics;
using Ariadne.Model;

namespace Ariadne.Storage.Embedded.Aggregation;

/// <summary>
/// What outlives detailed spans: per time bucket (a minute, or an hour after roll-up) and service/operation/kind/
/// status, the request and error counts, the duration sum and a log2 latency histogram; and per bucket the
/// service-dependency edges with call and error counts, in the bucket their child span starts in.
/// </summary>
public sealed class Aggregates
{
    /// <summary>Histogram bucket i counts durations in [2^i, 2^(i+1)) microseconds; bucket 0 also holds shorter ones.</summary>
    public const int HistogramBuckets = 40;

    private readonly Dictionary<EdgeKey, EdgeStats> _edges = [];

    public Dictionary<OperationKey, OperationStats> Operations { get; } = [];

    private readonly Dictionary<long, DependencyCalculator> _pendingEdges = [];

    private readonly HashSet<long> _traceMinutes = [];

    public Dictionary<EdgeKey, EdgeStats> Edges
    {
        get
        {
            FlushPendingEdges();
            return _edges;
        }
    }

    public static long MinuteOf(long unixNanos) => Math.DivRem(unixNanos, 60_000_000_000L, out var rem) - (rem < 0 ? 1 : 0);

    /// <summary>Adds one whole trace (or the part of it this block holds).</summary>
    public void AddTrace(IReadOnlyList<Span> trace)
    {
        if (trace.Count == 0)
        {
            return;
        }

        foreach (var span in trace)
        {
            var key = new OperationKey(MinuteOf(span.StartTimeUnixNano) * 60, span.ServiceName, span.Name, span.Kind, span.StatusCode);
            if (!Operations.TryGetValue(key, out var stats))
            {
                stats = new OperationStats();
                Operations.Add(key, stats);
            }

            stats.Add(span.DurationNanos, span.IsError);
        }

        // An edge belongs to the minute its child span starts in: one windowed calculator per minute that has a span.
        // Not every minute in between: one span with a clock at 1970 (or a Zipkin span without a timestamp) would
        // otherwise mean millions of calculators for one trace.
        _traceMinutes.Clear();
        foreach (var span in trace)
        {
            _traceMinutes.Add(MinuteOf(span.StartTimeUnixNano));
        }

        foreach (var minute in _traceMinutes)
        {
            if (!_pendingEdges.TryGetValue(minute * 60, out var calculator))
            {
                calculator = new DependencyCalculator(minute * 60_000_000_000L, (minute + 1) * 60_000_000_000L - 1);
                _pendingEdges.Add(minute * 60, calculator);
            }

            calculator.AddTrace(trace);
        }
    }

    /// <summary>Folds edges gathered by <see cref="AddTrace"/> (one calculator per bucket, not per trace) into <see cref="Edges"/>.</summary>
    private void FlushPendingEdges()
    {
        foreach (var (bucket, calculator) in _pendingEdges)
        {
            foreach (var link in calculator.ToLinks())
            {
                AddEdge(new EdgeKey(bucket, link.Parent, link.Child), link.CallCount, link.ErrorCount);
            }
        }

        _pendingEdges.Clear();
    }

    public void AddEdge(EdgeKey key, long calls, long errors)
    {
        _edges.TryGetValue(key, out var current);
        _edges[key] = new EdgeStats(current.Calls + calls, current.Errors + errors);
    }

    /// <summary>Adds <paramref name="other"/>, with buckets coarsened to <paramref name="bucketSeconds"/> (60 or 3600).</summary>
    public void Merge(Aggregates other, long bucketSeconds = 60)
    {
        foreach (var (key, stats) in other.Operations)
        {
            var coarse = key with { BucketUnixSeconds = Floor(key.BucketUnixSeconds, bucketSeconds) };
            if (!Operations.TryGetValue(coarse, out var mine))
            {
                mine = new OperationStats();
                Operations.Add(coarse, mine);
            }

            mine.Merge(stats);
        }

        foreach (var (key, stats) in other.Edges)
        {
            AddEdge(key with { BucketUnixSeconds = Floor(key.BucketUnixSeconds, bucketSeconds) }, stats.Calls, stats.Errors);
        }
    }

    /// <summary>Edge counts of buckets starting inside [fromSeconds, toSeconds].</summary>
    public void AddEdgesTo(Dictionary<(string Parent, string Child), (long Calls, long Errors)> edges, long fromSeconds, long toSeconds)
    {
        foreach (var (key, stats) in Edges)
        {
            if (key.BucketUnixSeconds >= Floor(fromSeconds, 60) && key.BucketUnixSeconds <= toSeconds)
            {
                edges.TryGetValue((key.Parent, key.Child), out var current);
                edges[(key.Parent, key.Child)] = (current.Calls + stats.Calls, current.Errors + stats.Errors);
            }
        }
    }

    public AggregatesDocument ToDocument() => new()
    {
        Operations = Operations.Select(o => new OperationRow(
            o.Key.BucketUnixSeconds, o.Key.Service, o.Key.Operation, (int)o.Key.Kind, (int)o.Key.Status,
            o.Value.Count, o.Value.Errors, o.Value.DurationSumNanos, o.Value.TrimmedHistogram())).ToList(),
        Edges = Edges.Select(e => new EdgeRow(e.Key.BucketUnixSeconds, e.Key.Parent, e.Key.Child, e.Value.Calls, e.Value.Errors)).ToList(),
    };

    public static Aggregates FromDocument(AggregatesDocument? document)
    {
        var result = new Aggregates();
        if (document is null)
        {
            return result;
        }

        foreach (var row in document.Operations)
        {
            var key = new OperationKey(row.Bucket, row.Service, row.Operation, (SpanKind)row.Kind, (StatusCode)row.Status);
            var stats = new OperationStats { Count = row.Count, Errors = row.Errors, DurationSumNanos = row.DurationSumNanos };
            row.Histogram.AsSpan(0, Math.Min(row.Histogram.Length, HistogramBuckets)).CopyTo(stats.Histogram);
            result.Operations[key] = stats;
        }

        foreach (var row in document.Edges)
        {
            result.AddEdge(new EdgeKey(row.Bucket, row.Parent, row.Child), row.Calls, row.Errors);
        }

        return result;
    }

    private static long Floor(long value, long unit) => value - (((value % unit) + unit) % unit);
}

public readonly record struct OperationKey(long BucketUnixSeconds, string Service, string Operation, SpanKind Kind, StatusCode Status);

public readonly record struct EdgeKey(long BucketUnixSeconds, string Parent, string Child);

public readonly record struct EdgeStats(long Calls, long Errors);

public sealed class OperationStats
{
    public long Count { get; set; }

    public long Errors { get; set; }

    public long DurationSumNanos { get; set; }

    public long[] Histogram { get; } = new long[Aggregates.HistogramBuckets];

    public void Add(long durationNanos, bool isError)
    {
        Count++;
        Errors += isError ? 1 : 0;
        DurationSumNanos += durationNanos;
        var micros = (ulong)Math.Max(1, durationNanos / 1000);
        Histogram[Math.Min(BitOperations.Log2(micros), Aggregates.HistogramBuckets - 1)]++;
    }

    public void Merge(OperationStats other)
    {
        Count += other.Count;
        Errors += other.Errors;
        DurationSumNanos += other.DurationSumNanos;
        for (var i = 0; i < Histogram.Length; i++)
        {
            Histogram[i] += other.Histogram[i];
        }
    }

    public long[] TrimmedHistogram()
    {
        var last = Array.FindLastIndex(Histogram, c => c != 0);
        return Histogram.AsSpan(0, last + 1).ToArray();
    }
}

/// <summary>The JSON shape of aggregates, in block metadata and in the per-day aggregate files.</summary>
public sealed class AggregatesDocument
{
    public List<OperationRow> Operations { get; set; } = [];

    public List<EdgeRow> Edges { get; set; } = [];
}

public sealed record OperationRow(long Bucket, string Service, string Operation, int Kind, int Status, long Count, long Errors, long DurationSumNanos, long[] Histogram);

public sealed record EdgeRow(long Bucket, string Parent, string Child, long Calls, long Errors);
