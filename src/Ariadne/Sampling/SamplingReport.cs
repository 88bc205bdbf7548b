using Ariadne.Sampling.Adaptive;
using Ariadne.Sampling.Remote;
using Ariadne.Sampling.Tail;

namespace Ariadne.Sampling;

/// <summary>
/// What sampling does for one tenant, per service and root operation: the throughput the server observed, the
/// head-sampling probability it serves, and what tail sampling kept (by which policy) and dropped. The query API
/// (<c>/api/ariadne/sampling</c>) and the UI's Sampling page show it.
/// </summary>
public sealed class SamplingReporter(
    SamplingOptions options, ISamplingStrategyProvider provider, ThroughputAggregator throughput, TailSampler tail, TailSamplingMetrics decisions)
{
    public SamplingReport Build(string tenant)
    {
        var rows = new SortedDictionary<(string Service, string Operation), OperationReport>();
        OperationReport Row(string service, string operation)
        {
            if (!rows.TryGetValue((service, operation), out var row))
            {
                var served = provider.GetStrategy(tenant, service).ProbabilityFor(operation);
                rows[(service, operation)] = row = new OperationReport { Service = service, Operation = operation, Probability = served };
            }

            return row;
        }

        if (throughput.Last is { } interval && interval.Length > TimeSpan.Zero)
        {
            var seconds = interval.Length.TotalSeconds;
            foreach (var op in interval.Operations.Where(o => o.Tenant == tenant))
            {
                var row = Row(op.Service, op.Operation);
                row.ObservedTracesPerSecond = op.Count / seconds;
                row.EstimatedTracesPerSecond = op.EstimatedTraces(row.Probability ?? 1) / seconds;
            }
        }

        foreach (var (key, counts) in decisions.Operations.Where(o => o.Key.Tenant == tenant))
        {
            var row = Row(key.Service, key.Operation);
            row.Sampled = counts.Kept;
            row.Dropped = counts.Dropped;
            row.KeptByPolicy = new SortedDictionary<string, long>(counts.KeptByPolicy.ToDictionary(), StringComparer.Ordinal);
        }

        return new SamplingReport
        {
            Mode = options.Mode,
            IntervalSeconds = throughput.Last?.Length.TotalSeconds,
            Tail = new TailReport
            {
                Enabled = options.Tail.Enabled,
                Buffering = tail.Buffering,
                DecisionWaitSeconds = options.Tail.DecisionWait.TotalSeconds,
                AlwaysKeepErrors = options.Tail.AlwaysKeepErrors,
                Policies = tail.Policies.Select(p => p.Name).ToList(),
                BufferedTraces = tail.BufferedTraces,
                BufferedSpans = tail.BufferedSpans,
            },
            Operations = rows.Values.ToList(),
        };
    }
}

/// <summary>The sampling report of one tenant (<see cref="SamplingReporter"/>).</summary>
public sealed class SamplingReport
{
    public string Mode { get; init; } = string.Empty;

    /// <summary>Length of the counting interval the throughput figures cover; null before the first one closes.</summary>
    public double? IntervalSeconds { get; init; }

    public TailReport Tail { get; init; } = new();

    public List<OperationReport> Operations { get; init; } = [];
}

public sealed class TailReport
{
    public bool Enabled { get; init; }

    /// <summary>False when no policy is configured: every trace is stored at once.</summary>
    public bool Buffering { get; init; }

    public double DecisionWaitSeconds { get; init; }

    public bool AlwaysKeepErrors { get; init; }

    public List<string> Policies { get; init; } = [];

    public long BufferedTraces { get; init; }

    public long BufferedSpans { get; init; }
}

public sealed class OperationReport
{
    public string Service { get; init; } = string.Empty;

    public string Operation { get; init; } = string.Empty;

    /// <summary>Root spans per second that reached the server (after head sampling, before tail sampling).</summary>
    public double ObservedTracesPerSecond { get; set; }

    /// <summary>Traces per second the operation started, corrected by the head-sampling probability.</summary>
    public double EstimatedTracesPerSecond { get; set; }

    /// <summary>The head-sampling probability served to SDKs (null for a rate-limiting strategy).</summary>
    public double? Probability { get; init; }

    /// <summary>Traces tail sampling kept.</summary>
    public long Sampled { get; set; }

    /// <summary>Traces tail sampling dropped.</summary>
    public long Dropped { get; set; }

    public SortedDictionary<string, long> KeptByPolicy { get; set; } = new(StringComparer.Ordinal);
}
