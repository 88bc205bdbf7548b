using Ariadne.Sampling.Adaptive;
using Ariadne.Sampling.Remote;
using Ariadne.Sampling.Tail;
using Ariadne.Tenancy;

namespace Ariadne.Sampling;

internal static class SamplingEndpoints
{
    /// <summary>Jaeger's handler: exactly one service parameter, else 400 with Jaeger's message.</summary>
    public static IResult GetStrategy(HttpRequest request, ISamplingStrategyProvider provider)
    {
        var services = request.Query["service"];
        if (services.Count != 1)
        {
            return Results.Text("'service' parameter must be provided once\n", statusCode: StatusCodes.Status400BadRequest);
        }

        return Results.Text(provider.GetStrategy(services[0] ?? string.Empty).ToJaegerJson(), "application/json");
    }

    public static IResult GetReport(
        HttpRequest request,
        TenantResolver tenants,
        SamplingOptions options,
        ISamplingStrategyProvider provider,
        ThroughputAggregator throughput,
        TailSampler tail,
        TailSamplingMetrics decisions)
    {
        var tenant = tenants.Resolve(request);
        if (tenant is null)
        {
            return Results.Text($"The {tenants.HeaderName} header does not hold a tenant id (1-64 letters, digits, '-', '_' or '.').\n", statusCode: StatusCodes.Status400BadRequest);
        }

        var rows = new SortedDictionary<(string Service, string Operation), OperationReport>();
        OperationReport Row(string service, string operation)
        {
            if (!rows.TryGetValue((service, operation), out var row))
            {
                var served = provider.GetStrategy(service).ProbabilityFor(operation);
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

        return Results.Json(new SamplingReport
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
        });
    }

    internal sealed class SamplingReport
    {
        public string Mode { get; init; } = string.Empty;

        /// <summary>Length of the counting interval the throughput figures cover; null before the first one closes.</summary>
        public double? IntervalSeconds { get; init; }

        public TailReport Tail { get; init; } = new();

        public List<OperationReport> Operations { get; init; } = [];
    }

    internal sealed class TailReport
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

    internal sealed class OperationReport
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
}
