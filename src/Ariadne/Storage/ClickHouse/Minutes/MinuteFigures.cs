using Ariadne.Analysis;
using Ariadne.Model;

namespace Ariadne.Storage.ClickHouse.Minutes;

/// <summary>An operation's minute: tenant, service, operation, kind and the minute (Unix seconds) its spans start in.</summary>
internal readonly record struct CallKey(string Tenant, string Service, string Name, SpanKind Kind, long Minute);

/// <summary>A dependency's minute: the parent's and the child's services and the minute the child span starts in.</summary>
internal readonly record struct EdgeKey(string Tenant, string Parent, string Child, long Minute);

/// <summary>Calls, errors, summed duration and the duration histogram (the buckets of /metrics plus one above) of an operation's minute.</summary>
internal sealed class CallFigures
{
    public long Calls;
    public long Errors;
    public long DurationSum;
    public readonly long[] Buckets = new long[SpanMetricsAggregator.BucketCount];

    public void Add(bool error, long durationNanos)
    {
        Calls++;
        Errors += error ? 1 : 0;
        DurationSum += durationNanos;
        Buckets[BucketOf(durationNanos)]++;
    }

    public void Add(CallFigures other)
    {
        Calls += other.Calls;
        Errors += other.Errors;
        DurationSum += other.DurationSum;
        for (var i = 0; i < Buckets.Length; i++)
        {
            Buckets[i] += other.Buckets[i];
        }
    }

    public SpanMetricsAggregator.RedWindow ToRed() => SpanMetricsAggregator.RedOf(Calls, Errors, Buckets);

    private static int BucketOf(long durationNanos)
    {
        var seconds = durationNanos / 1e9;
        var bounds = SpanMetricsAggregator.DurationBuckets;
        for (var i = 0; i < bounds.Length; i++)
        {
            if (seconds <= bounds[i])
            {
                return i;
            }
        }

        return bounds.Length;
    }
}

/// <summary>
/// Per-minute figures gathered since the last write, and the log position they reach (<see cref="LogPosition.Start"/>
/// without a log): what one INSERT per table sends.
/// </summary>
internal sealed class MinuteFigures
{
    public Dictionary<CallKey, CallFigures> Calls { get; } = [];

    public Dictionary<EdgeKey, (long Calls, long Errors)> Edges { get; } = [];

    public bool IsEmpty => Calls.Count == 0 && Edges.Count == 0;

    public void AddCall(CallKey key, bool error, long durationNanos)
    {
        if (!Calls.TryGetValue(key, out var figures))
        {
            Calls[key] = figures = new CallFigures();
        }

        figures.Add(error, durationNanos);
    }

    public void AddEdge(EdgeKey key, bool error)
    {
        var current = Edges.GetValueOrDefault(key);
        Edges[key] = (current.Calls + 1, current.Errors + (error ? 1 : 0));
    }

    public void AddCallsOf(MinuteFigures other)
    {
        foreach (var (key, figures) in other.Calls)
        {
            if (Calls.TryGetValue(key, out var mine))
            {
                mine.Add(figures);
            }
            else
            {
                var copy = new CallFigures();
                copy.Add(figures);
                Calls[key] = copy;
            }
        }
    }

    public void AddEdgesOf(MinuteFigures other)
    {
        foreach (var (key, figures) in other.Edges)
        {
            var current = Edges.GetValueOrDefault(key);
            Edges[key] = (current.Calls + figures.Calls, current.Errors + figures.Errors);
        }
    }

    public void Clear()
    {
        Calls.Clear();
        Edges.Clear();
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(Calls.Count);
        foreach (var (key, figures) in Calls)
        {
            writer.Write(key.Tenant);
            writer.Write(key.Service);
            writer.Write(key.Name);
            writer.Write((int)key.Kind);
            writer.Write(key.Minute);
            writer.Write(figures.Calls);
            writer.Write(figures.Errors);
            writer.Write(figures.DurationSum);
            writer.Write(figures.Buckets.Length);
            foreach (var count in figures.Buckets)
            {
                writer.Write(count);
            }
        }

        writer.Write(Edges.Count);
        foreach (var (key, figures) in Edges)
        {
            writer.Write(key.Tenant);
            writer.Write(key.Parent);
            writer.Write(key.Child);
            writer.Write(key.Minute);
            writer.Write(figures.Calls);
            writer.Write(figures.Errors);
        }
    }

    public static MinuteFigures Read(BinaryReader reader)
    {
        var figures = new MinuteFigures();
        for (var count = reader.ReadInt32(); count > 0; count--)
        {
            var key = new CallKey(reader.ReadString(), reader.ReadString(), reader.ReadString(), (SpanKind)reader.ReadInt32(), reader.ReadInt64());
            var call = new CallFigures { Calls = reader.ReadInt64(), Errors = reader.ReadInt64(), DurationSum = reader.ReadInt64() };
            var buckets = reader.ReadInt32();
            if (buckets != call.Buckets.Length)
            {
                throw new InvalidDataException($"the ClickHouse minutes hold {buckets} duration buckets, this version {call.Buckets.Length}");
            }

            for (var i = 0; i < buckets; i++)
            {
                call.Buckets[i] = reader.ReadInt64();
            }

            figures.Calls[key] = call;
        }

        for (var count = reader.ReadInt32(); count > 0; count--)
        {
            var key = new EdgeKey(reader.ReadString(), reader.ReadString(), reader.ReadString(), reader.ReadInt64());
            figures.Edges[key] = (reader.ReadInt64(), reader.ReadInt64());
        }

        return figures;
    }
}
