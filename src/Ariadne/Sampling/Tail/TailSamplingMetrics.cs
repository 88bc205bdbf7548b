using System.Collections.Concurrent;
using Ariadne.Operations;
using Prometheus;

namespace Ariadne.Sampling.Tail;

/// <summary>Kept and dropped traces of one root operation, and which policy kept how many.</summary>
public sealed class OperationDecisions
{
    private readonly ConcurrentDictionary<string, long> _keptBy = new(StringComparer.Ordinal);
    private long _kept;
    private long _dropped;

    public long Kept => Interlocked.Read(ref _kept);

    public long Dropped => Interlocked.Read(ref _dropped);

    public IReadOnlyDictionary<string, long> KeptByPolicy => _keptBy;

    internal void Record(string? keptBy)
    {
        if (keptBy is null)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        Interlocked.Increment(ref _kept);
        _keptBy.AddOrUpdate(keptBy, 1, static (_, n) => n + 1);
    }
}

/// <summary>Tail-sampling figures on /metrics, and per root operation for the sampling API.</summary>
public sealed class TailSamplingMetrics
{
    private const int MaxOperations = 20_000;

    private readonly Counter _evaluations;
    private readonly Counter _traces;
    private readonly Counter _lateSpans;
    private readonly Counter _early;
    private readonly Gauge _bufferedTraces;
    private readonly Gauge _bufferedSpans;
    private readonly Gauge _bufferedBytes;
    private readonly ConcurrentDictionary<(string Tenant, string Service, string Operation), OperationDecisions> _operations = new();

    // prometheus-net's WithLabels looks the series up (and allocates) on every call; decisions are per trace, so
    // the children are looked up once per label value.
    private readonly ConcurrentDictionary<string, Counter.Child> _keptBy = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter.Child[]> _evaluationsBy = new(StringComparer.Ordinal);
    private readonly Counter.Child _dropped;
    private readonly Counter.Child _lateKept;
    private readonly Counter.Child _lateDropped;

    public TailSamplingMetrics(CollectorRegistry registry)
    {
        var factory = ServerMetrics.Factory(registry);
        _evaluations = factory.CreateCounter("ariadne_tail_sampling_policy_decisions_total", "Traces each tail-sampling policy evaluated, by its verdict.", ["policy", "decision"]);
        _traces = factory.CreateCounter("ariadne_tail_sampling_traces_total", "Traces decided by tail sampling: kept (with the policy that kept them) or dropped.", ["decision", "policy"]);
        _lateSpans = factory.CreateCounter("ariadne_tail_sampling_late_spans_total", "Spans that arrived after their trace was decided, by the decision they followed.", ["decision"]);
        _early = factory.CreateCounter("ariadne_tail_sampling_early_decisions_total", "Traces decided before their decision wait because the buffer reached MaxTraces or MaxBytes.");
        _bufferedTraces = factory.CreateGauge("ariadne_tail_sampling_buffered_traces", "Traces held for a tail-sampling decision.");
        _bufferedSpans = factory.CreateGauge("ariadne_tail_sampling_buffered_spans", "Spans held for a tail-sampling decision.");
        _bufferedBytes = factory.CreateGauge("ariadne_tail_sampling_buffered_bytes", "Estimated bytes of spans held for a tail-sampling decision.");
        _dropped = _traces.WithLabels("dropped", string.Empty);
        _lateKept = _lateSpans.WithLabels("kept");
        _lateDropped = _lateSpans.WithLabels("dropped");
    }

    public IEnumerable<KeyValuePair<(string Tenant, string Service, string Operation), OperationDecisions>> Operations => _operations;

    internal void RecordPolicyEvaluation(string policy, PolicyDecision decision)
    {
        var children = _evaluationsBy.GetOrAdd(policy, static (name, counter) =>
            new[] { "not_sampled", "sampled", "invert_sampled", "invert_not_sampled" }.Select(d => counter.WithLabels(name, d)).ToArray(), _evaluations);
        children[(int)decision].Inc();
    }

    internal void RecordDecision(TraceView trace, string? keptBy)
    {
        if (keptBy is null)
        {
            _dropped.Inc();
        }
        else
        {
            _keptBy.GetOrAdd(keptBy, static (name, counter) => counter.WithLabels("kept", name), _traces).Inc();
        }

        var key = (trace.Tenant, trace.Root.ServiceName, trace.Root.Name);
        if (!_operations.TryGetValue(key, out var decisions))
        {
            if (_operations.Count >= MaxOperations)
            {
                return;
            }

            decisions = _operations.GetOrAdd(key, static _ => new OperationDecisions());
        }

        decisions.Record(keptBy);
    }

    internal void RecordLateSpans(long kept, long dropped)
    {
        _lateKept.Inc(kept);
        _lateDropped.Inc(dropped);
    }

    internal void RecordEarlyDecisions(int traces) => _early.Inc(traces);

    internal void SetBuffered(TailSampler sampler)
    {
        _bufferedTraces.Set(sampler.BufferedTraces);
        _bufferedSpans.Set(sampler.BufferedSpans);
        _bufferedBytes.Set(sampler.BufferedBytes);
    }
}
