using System.Collections.Concurrent;
using Ariadne.Model;
using Ariadne.Pipeline;
using Prometheus;

namespace Ariadne.Analysis;

/// <summary>RED figures of one tenant's service operation with one status, since start.</summary>
public sealed class OperationRed
{
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
}

/// <summary>
/// Request, error and duration figures per tenant, service, operation and status, from every span before
/// sampling (RED, as the OTel Collector's spanmetrics connector computes them). Exposed on /metrics as
/// <c>ariadne_spanmetrics_calls_total</c> and <c>ariadne_spanmetrics_duration_seconds</c>; read by the
/// sampling API, and later by the UI and alerts.
/// </summary>
public sealed class SpanMetricsAggregator : IIngestAggregator
{
    /// <summary>Series beyond this many are folded into operation "__other__", so unbounded span names cannot exhaust memory.</summary>
    public const int MaxSeries = 20_000;

    public const string OtherOperation = "__other__";

    private static readonly double[] s_buckets = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly ConcurrentDictionary<SeriesKey, OperationRed> _series = new();
    private readonly Counter _calls;
    private readonly Histogram _duration;

    public SpanMetricsAggregator(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        string[] labels = ["tenant", "service", "operation", "status_code"];
        _calls = factory.CreateCounter("ariadne_spanmetrics_calls_total", "Spans received per service, operation and status, counted before sampling.", labels);
        _duration = factory.CreateHistogram("ariadne_spanmetrics_duration_seconds", "Span durations per service, operation and status, before sampling.", new HistogramConfiguration
        {
            LabelNames = labels,
            Buckets = s_buckets,
        });
    }

    public IEnumerable<KeyValuePair<SeriesKey, OperationRed>> Series => _series;

    public void Observe(string tenant, IReadOnlyList<Span> spans)
    {
        // Spans of one batch usually share a few operations: consecutive spans of one series are added together.
        OperationRed? current = null;
        SeriesKey currentKey = default;
        long calls = 0, nanos = 0;
        for (var i = 0; i < spans.Count; i++)
        {
            var span = spans[i];
            var key = new SeriesKey(tenant, span.ServiceName, span.Name, span.StatusCode);
            if (current is null || !key.Equals(currentKey))
            {
                current?.Add(calls, nanos);
                current = Get(key);
                currentKey = key;
                calls = nanos = 0;
            }

            var duration = Math.Max(0, span.DurationNanos);
            calls++;
            nanos += duration;
            current.Histogram.Observe(duration / 1e9);
        }

        current?.Add(calls, nanos);
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
            var status = k.Status switch { StatusCode.Error => "STATUS_CODE_ERROR", StatusCode.Ok => "STATUS_CODE_OK", _ => "STATUS_CODE_UNSET" };
            return new OperationRed
            {
                Counter = _calls.WithLabels(k.Tenant, k.Service, k.Operation, status),
                Histogram = _duration.WithLabels(k.Tenant, k.Service, k.Operation, status),
            };
        });
    }

    public readonly record struct SeriesKey(string Tenant, string Service, string Operation, StatusCode Status);
}
