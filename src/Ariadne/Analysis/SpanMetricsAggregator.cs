using System.Collections.Concurrent;
using Ariadne.Model;
using Ariadne.Operations;
using Ariadne.Pipeline;
using Prometheus;

namespace Ariadne.Analysis;

/// <summary>
/// RED figures of one tenant's service operation with one status: totals since start, and per minute of span
/// start for the last <see cref="SpanMetricsAggregator.RecentMinutes"/> minutes (the duration histogram of /metrics,
/// whose buckets sum to the minute's count), which alert rules read.
/// </summary>
public sealed class OperationRed
{
    private static readonly long s_exemplarInterval = 10 * System.Diagnostics.Stopwatch.Frequency;
    private readonly MinuteRing _minutes = new(SpanMetricsAggregator.BucketCount);

    // Since start, as the histogram child counts them, for checkpoints; guarded by _minutes.
    private readonly DurationTotals _totals = new();
    private long _lastExemplar = long.MinValue / 2;
    private long _calls;
    private long _durationNanos;

    public long Calls => Interlocked.Read(ref _calls);

    public double TotalDurationSeconds => Interlocked.Read(ref _durationNanos) / 1e9;

    internal Histogram.Child Histogram { get; init; } = null!;

    internal Counter.Child Counter { get; init; } = null!;

    internal void Add(long calls, long durationNanos)
    {
        Interlocked.Add(ref _calls, calls);
        Interlocked.Add(ref _durationNanos, durationNanos);
        Counter.Inc(calls);
    }

    /// <summary>True at most once per 10 s: the caller then attaches the span's trace id to its observation.</summary>
    internal bool ExemplarDue(long now)
    {
        var last = Interlocked.Read(ref _lastExemplar);
        return now - last >= s_exemplarInterval && Interlocked.CompareExchange(ref _lastExemplar, now, last) == last;
    }

    /// <summary>Counts one span in the minute it started in.</summary>
    internal void Record(long minute, long durationNanos)
    {
        var bucket = SpanMetricsAggregator.BucketOf(durationNanos);
        lock (_minutes)
        {
            _totals.Add(bucket, durationNanos);
            var buckets = _minutes.For(minute);
            if (!buckets.IsEmpty)
            {
                buckets[bucket]++;
            }
        }
    }

    internal void WriteCheckpoint(BinaryWriter writer)
    {
        lock (_minutes)
        {
            writer.Write(Calls);
            _totals.Write(writer);
            _minutes.Write(writer);
        }
    }

    /// <summary>Adds a checkpoint's figures (to a series that has counted nothing yet): totals, /metrics and minutes.</summary>
    internal void ReadCheckpoint(BinaryReader reader)
    {
        var calls = reader.ReadInt64();
        long nanos;
        lock (_minutes)
        {
            nanos = _totals.Read(reader, Histogram);
            _minutes.Read(reader);
        }

        Add(calls, nanos);
    }

    /// <summary>Adds the minutes in [<paramref name="fromMinute"/>, <paramref name="toMinute"/>) to the totals.</summary>
    internal void AddMinutes(long fromMinute, long toMinute, ref long count, long[] buckets)
    {
        Span<long> totals = stackalloc long[SpanMetricsAggregator.BucketCount];
        lock (_minutes)
        {
            _minutes.AddTo(fromMinute, toMinute, totals);
        }

        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] += totals[i];
            count += totals[i];
        }
    }
}

/// <summary>
/// Request, error and duration figures per tenant, service, operation and status, from every span before
/// sampling (RED, as the OTel Collector's spanmetrics connector computes them). Exposed on /metrics as
/// Tempo's metrics-generator names them (<c>traces_spanmetrics_calls_total</c>, <c>traces_spanmetrics_latency</c>), so
/// dashboards and Grafana's APM table built for Tempo read them unchanged, and read by alert
/// rules through <see cref="Window"/> (the last <see cref="RecentMinutes"/> minutes, by span start).
/// </summary>
public sealed class SpanMetricsAggregator : ICheckpointedAggregator
{
    private const byte CheckpointVersion = 1;

    /// <summary>Series beyond this many are folded into operation "__other__", so unbounded span names cannot exhaust memory.</summary>
    public const int MaxSeries = 20_000;

    public const string OtherOperation = "__other__";

    /// <summary>Minutes of per-minute RED kept for alert windows (a 5-minute window with 24 baseline windows fits).</summary>
    public const int RecentMinutes = 180;

    /// <summary>Duration histogram bounds in seconds, shared by the span metrics and the service graph.</summary>
    internal static readonly double[] DurationBuckets = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private static readonly long[] s_bucketNanos = DurationBuckets.Select(b => (long)(b * 1e9)).ToArray();

    /// <summary>The histogram buckets of /metrics, plus the one above the last bound.</summary>
    public static int BucketCount => DurationBuckets.Length + 1;

    private readonly ConcurrentDictionary<SeriesKey, OperationRed> _series = new();
    private readonly Counter _calls;
    private readonly Histogram _duration;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    public SpanMetricsAggregator(CollectorRegistry registry)
    {
        var factory = ServerMetrics.Factory(registry);
        string[] labels = ["tenant", "service", "span_name", "span_kind", "status_code"];
        _calls = factory.CreateCounter("traces_spanmetrics_calls_total", "Spans received per service, span name, kind and status, counted before sampling.", labels);
        _duration = factory.CreateHistogram("traces_spanmetrics_latency", "Span durations in seconds per service, span name, kind and status, before sampling.", new HistogramConfiguration
        {
            LabelNames = labels,
            Buckets = DurationBuckets,
        });
    }

    public IEnumerable<KeyValuePair<SeriesKey, OperationRed>> Series => _series;

    /// <summary>When the figures restored from a checkpoint began counting; null when they began in this process.</summary>
    public DateTimeOffset? RestoredCountingSince { get; private set; }

    public string CheckpointName => "span-metrics";

    public void WriteCheckpoint(BinaryWriter writer)
    {
        writer.Write(CheckpointVersion);
        writer.Write((RestoredCountingSince ?? _started).ToUnixTimeMilliseconds());
        var series = _series.ToArray();
        writer.Write(series.Length);
        foreach (var (key, red) in series)
        {
            writer.Write(key.Tenant);
            writer.Write(key.Service);
            writer.Write(key.Operation);
            writer.Write((int)key.Kind);
            writer.Write((int)key.Status);
            red.WriteCheckpoint(writer);
        }
    }

    public void ReadCheckpoint(BinaryReader reader)
    {
        if (reader.ReadByte() != CheckpointVersion)
        {
            throw new InvalidDataException($"the span metrics' part is not version {CheckpointVersion}");
        }

        RestoredCountingSince = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
        for (var count = reader.ReadInt32(); count > 0; count--)
        {
            var key = new SeriesKey(reader.ReadString(), reader.ReadString(), reader.ReadString(), (SpanKind)reader.ReadInt32(), (StatusCode)reader.ReadInt32());
            Get(key).ReadCheckpoint(reader);
        }
    }

    public void Observe(string tenant, IReadOnlyList<Span> spans)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();

        // Spans of one batch usually share a few operations: consecutive spans of one series are added together.
        OperationRed? current = null;
        SeriesKey currentKey = default;
        long calls = 0, nanos = 0;
        for (var i = 0; i < spans.Count; i++)
        {
            var span = spans[i];
            var key = new SeriesKey(tenant, span.ServiceName, span.Name, span.Kind, span.StatusCode);
            var duration = Math.Max(0, span.DurationNanos);
            if (current is null || !key.Equals(currentKey))
            {
                current?.Add(calls, nanos);
                current = Get(key);
                currentKey = key;
                calls = nanos = 0;
                if (current.ExemplarDue(now))
                {
                    // A trace of this series to jump to from the histogram (Grafana's exemplars), at most every 10 s.
                    current.Histogram.Observe(duration / 1e9, Exemplar.From(s_traceIdKey.WithValue(span.TraceId.ToHex())));
                    calls++;
                    nanos += duration;
                    current.Record(MinuteRing.MinuteOf(span.StartTimeUnixNano), duration);
                    continue;
                }
            }

            calls++;
            nanos += duration;
            current.Histogram.Observe(duration / 1e9);
            current.Record(MinuteRing.MinuteOf(span.StartTimeUnixNano), duration);
        }

        current?.Add(calls, nanos);
    }

    /// <summary>
    /// RED of a tenant's service (one operation, or all) over the minutes of span start in [from, to): requests,
    /// errors and latency percentiles interpolated in the histogram buckets, as Prometheus' histogram_quantile does.
    /// </summary>
    public RedWindow Window(string tenant, string service, string? operation, long fromMinute, long toMinute)
    {
        var window = new WindowSum();
        foreach (var (key, red) in _series)
        {
            if (key.Tenant == tenant && key.Service == service && (operation is null || key.Operation == operation))
            {
                window.Add(key, red, fromMinute, toMinute);
            }
        }

        return window.ToRed();
    }

    /// <summary>RED per operation and kind of a tenant's service, as <see cref="Window"/> computes it; operations without requests are left out.</summary>
    public IReadOnlyDictionary<(string Operation, SpanKind Kind), RedWindow> Operations(string tenant, string service, long fromMinute, long toMinute)
    {
        var windows = new Dictionary<(string, SpanKind), WindowSum>();
        foreach (var (key, red) in _series)
        {
            if (key.Tenant == tenant && key.Service == service)
            {
                if (!windows.TryGetValue((key.Operation, key.Kind), out var window))
                {
                    window = new WindowSum();
                    windows.Add((key.Operation, key.Kind), window);
                }

                window.Add(key, red, fromMinute, toMinute);
            }
        }

        return windows.Where(w => w.Value.Requests > 0).ToDictionary(w => w.Key, w => w.Value.ToRed());
    }

    private sealed class WindowSum
    {
        private readonly long[] _buckets = new long[BucketCount];
        private long _errors;

        public long Requests { get; private set; }

        public void Add(SeriesKey key, OperationRed red, long fromMinute, long toMinute)
        {
            long count = 0;
            red.AddMinutes(fromMinute, toMinute, ref count, _buckets);
            Requests += count;
            _errors += key.Status == StatusCode.Error ? count : 0;
        }

        public RedWindow ToRed() => RedOf(Requests, _errors, _buckets);
    }

    /// <summary>
    /// A window's RED from its calls, errors and duration histogram (<see cref="BucketCount"/> buckets of
    /// <see cref="DurationBuckets"/>): the in-memory minutes' and ClickHouse's <c>call_minutes</c> alike.
    /// </summary>
    public static RedWindow RedOf(long requests, long errors, long[] buckets) => new(
        requests, errors, Quantile(buckets, requests, 0.50), Quantile(buckets, requests, 0.90), Quantile(buckets, requests, 0.95), Quantile(buckets, requests, 0.99));

    private static readonly Exemplar.LabelKey s_traceIdKey = Exemplar.Key("trace_id");

    internal static int BucketOf(long durationNanos)
    {
        var index = Array.BinarySearch(s_bucketNanos, durationNanos);
        return index >= 0 ? index : ~index;
    }

    /// <summary>Linear interpolation inside the bucket the rank falls in; the open top bucket answers its lower bound.</summary>
    private static long Quantile(long[] buckets, long total, double quantile)
    {
        if (total == 0)
        {
            return 0;
        }

        var rank = quantile * total;
        long seen = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            if (seen + buckets[i] >= rank && buckets[i] > 0)
            {
                var lower = i == 0 ? 0 : s_bucketNanos[i - 1];
                if (i == s_bucketNanos.Length)
                {
                    return lower;
                }

                return lower + (long)((s_bucketNanos[i] - lower) * ((rank - seen) / buckets[i]));
            }

            seen += buckets[i];
        }

        return s_bucketNanos[^1];
    }

    private OperationRed Get(SeriesKey key)
    {
        if (_series.TryGetValue(key, out var red))
        {
            return red;
        }

        if (_series.Count >= MaxSeries)
        {
            key = key with { Operation = OtherOperation };
            if (_series.TryGetValue(key, out red))
            {
                return red;
            }
        }

        return _series.GetOrAdd(key, k =>
        {
            // The OTel Collector's spanmetrics connector spells kind and status this way.
            var status = k.Status switch { StatusCode.Error => "STATUS_CODE_ERROR", StatusCode.Ok => "STATUS_CODE_OK", _ => "STATUS_CODE_UNSET" };
            var kind = k.Kind switch
            {
                SpanKind.Internal => "SPAN_KIND_INTERNAL",
                SpanKind.Server => "SPAN_KIND_SERVER",
                SpanKind.Client => "SPAN_KIND_CLIENT",
                SpanKind.Producer => "SPAN_KIND_PRODUCER",
                SpanKind.Consumer => "SPAN_KIND_CONSUMER",
                _ => "SPAN_KIND_UNSPECIFIED",
            };
            return new OperationRed
            {
                Counter = _calls.WithLabels(k.Tenant, k.Service, k.Operation, kind, status),
                Histogram = _duration.WithLabels(k.Tenant, k.Service, k.Operation, kind, status),
            };
        });
    }

    /// <summary>Requests, errors and latency percentiles of a window.</summary>
    public readonly record struct RedWindow(long Requests, long Errors, long P50Nanos, long P90Nanos, long P95Nanos, long P99Nanos);

    public readonly record struct SeriesKey(string Tenant, string Service, string Operation, SpanKind Kind, StatusCode Status);
}
