using System.Text.Json;
using Ariadne.Sampling.Remote;
using Ariadne.Storage;

namespace Ariadne.Sampling.Adaptive;

/// <summary>The adaptive state of one operation, for the sampling API and /metrics.</summary>
public readonly record struct AdaptiveOperationState(string Tenant, string Service, string Operation, double Probability, double SampledPerSecond, double EstimatedTracesPerSecond);

/// <summary>
/// Jaeger's adaptive sampling (internal/sampling/samplingstrategy/adaptive: aggregator, post-aggregator, provider)
/// in one process, without leader election. Every calculation interval it takes the root-span throughput of each
/// operation, keeps the last <c>AggregationBuckets</c> intervals, averages the newest <c>BucketsForCalculation</c>
/// (weights i^4), and moves the probability towards <c>TargetSamplesPerSecond</c>: left alone within
/// <c>DeltaTolerance</c>, doubled when nothing arrived, lowered at once, raised by at most
/// <c>PercentageIncreaseCap</c>, clamped to [<c>MinSamplingProbability</c>, 1].
/// <para>
/// One deliberate difference: Jaeger counts only spans whose sampler tags show the probability it served, and stops
/// adjusting an operation whose SDK does not follow. Here each root span is weighted by 1/p, p being the probability
/// the SDK used (sampler tags, tracestate, or else what was served), which estimates the operation's real traffic;
/// the sampled rate the served probability yields is that traffic times the probability. With an SDK that follows,
/// this is Jaeger's calculation; with one that lags or ignores us, the estimate stays right.
/// </para>
/// In cluster mode each node counts the root spans of the traces it owns, about 1/N of the cluster's for N live
/// members, and SDKs fetch their strategies from any node. Each node therefore scales what it counted by the live
/// member count (<see cref="Cluster.ClusterMembership.LiveMembers"/>) before the calculation: its probabilities aim at
/// the target for the cluster's traffic, so N nodes let through the target, not N times it (ADR-026).
/// <para>
/// Each tenant has its own state: the same service name in two tenants is two services, and one tenant's traffic
/// never moves another's probabilities. State (probabilities, throughput buckets) is saved to the data directory
/// after every calculation, replaced atomically through <see cref="IDurableFiles"/> (temp file, fsync, rename, fsync of
/// the directory), and read back at start; a state file from before tenants were kept apart is read as the default
/// tenant's. A save that fails leaves the previous state in place and is only logged: the state is a cache of what the
/// next intervals re-learn, so losing one calculation costs a few minutes of convergence, never data.
/// </para>
/// </summary>
public sealed class AdaptiveStrategyProvider : ISamplingStrategyProvider, IDisposable
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly AdaptiveSamplingOptions _options;
    private readonly IReadOnlyList<BusinessCriticalOperation> _critical;
    private readonly ThroughputAggregator _aggregator;
    private readonly string _stateFile;
    private readonly IDurableFiles _files;
    private readonly ILogger<AdaptiveStrategyProvider> _logger;
    private readonly Lock _lock = new();
    private readonly string _defaultTenant;
    private readonly Func<int>? _clusterMembers;
    private readonly Dictionary<OperationKey, double> _probabilities = [];
    private readonly List<Bucket> _buckets = [];
    private readonly Dictionary<(string Tenant, string Service), SamplingStrategy> _responses = [];
    private IReadOnlyList<AdaptiveOperationState> _states = [];

    /// <param name="clusterMembers">In cluster mode, how many nodes share the traces now; null on one node.</param>
    public AdaptiveStrategyProvider(
        SamplingOptions options, ThroughputAggregator aggregator, string dataDirectory, string defaultTenant, ILogger<AdaptiveStrategyProvider> logger,
        IDurableFiles? files = null, Func<int>? clusterMembers = null)
    {
        _clusterMembers = clusterMembers;
        _files = files ?? DurableFiles.System;
        _defaultTenant = defaultTenant;
        _options = options.Adaptive;
        _critical = options.BusinessCritical;
        _aggregator = aggregator;
        _logger = logger;
        _stateFile = Path.Combine(dataDirectory, "sampling", "adaptive-state.json");
        LoadState();
        lock (_lock)
        {
            Publish();
        }

        aggregator.IntervalClosed += OnIntervalClosed;
    }

    /// <summary>Per-operation probabilities and throughput of the last calculation.</summary>
    public IReadOnlyList<AdaptiveOperationState> States => Volatile.Read(ref _states);

    public SamplingStrategy GetStrategy(string tenant, string service)
    {
        lock (_lock)
        {
            return _responses.TryGetValue((tenant, service), out var strategy) ? strategy : DefaultStrategy(tenant, service);
        }
    }

    public void Dispose() => _aggregator.IntervalClosed -= OnIntervalClosed;

    private double Served(OperationKey key) =>
        _probabilities.TryGetValue(key, out var p) ? p : Floor(key.Service, key.Operation, _options.InitialSamplingProbability);

    private void OnIntervalClosed(ThroughputInterval interval)
    {
        try
        {
            Calculate(interval);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not save the adaptive sampling state to {File}: {Message}", _stateFile, e.Message);
        }
    }

    private void Calculate(ThroughputInterval interval)
    {
        if (interval.Length <= TimeSpan.Zero)
        {
            return;
        }

        lock (_lock)
        {
            var bucket = new Bucket { End = interval.End, Seconds = interval.Length.TotalSeconds };
            var members = Math.Max(1, _clusterMembers?.Invoke() ?? 1);
            foreach (var op in interval.Operations)
            {
                var key = new OperationKey(op.Tenant, op.Service, op.Operation);
                bucket.Operations.TryGetValue(key, out var counts);
                bucket.Operations[key] = new Counts(counts.Sampled + (op.Count * members), counts.Estimated + (op.EstimatedTraces(Served(key)) * members));
            }

            _buckets.Insert(0, bucket);
            if (_buckets.Count > _options.AggregationBuckets)
            {
                _buckets.RemoveRange(_options.AggregationBuckets, _buckets.Count - _options.AggregationBuckets);
            }

            var states = new List<AdaptiveOperationState>();
            foreach (var (key, rates) in RecentRates())
            {
                var weights = Weights(rates.Count);
                double sampled = 0, estimated = 0;
                for (var i = 0; i < rates.Count; i++)
                {
                    sampled += rates[i].Sampled * weights[i];
                    estimated += rates[i].Estimated * weights[i];
                }

                var probability = NextProbability(key, estimated);
                _probabilities[key] = probability;
                states.Add(new AdaptiveOperationState(key.Tenant, key.Service, key.Operation, probability, sampled, estimated));
            }

            Volatile.Write(ref _states, states);
            Publish();
            SaveState();
        }
    }

    /// <summary>Per operation, its rates in the newest buckets it appears in (Jaeger's throughputToQPS).</summary>
    private Dictionary<OperationKey, List<Counts>> RecentRates()
    {
        var rates = new Dictionary<OperationKey, List<Counts>>();
        foreach (var bucket in _buckets)
        {
            foreach (var (key, counts) in bucket.Operations)
            {
                if (!rates.TryGetValue(key, out var list))
                {
                    rates[key] = list = [];
                }

                if (list.Count < _options.BucketsForCalculation)
                {
                    list.Add(new Counts(counts.Sampled / bucket.Seconds, counts.Estimated / bucket.Seconds));
                }
            }
        }

        return rates;
    }

    private double NextProbability(OperationKey key, double tracesPerSecond)
    {
        var old = Served(key);
        var target = _options.TargetSamplesPerSecond;
        var sampledAtOld = tracesPerSecond * old;
        double next;
        if (Math.Abs(sampledAtOld - target) / target < _options.DeltaTolerance)
        {
            next = old;
        }
        else if (tracesPerSecond < 1e-10)
        {
            // Jaeger: nothing arrived, so double to get at least some traces through.
            next = old * 2;
        }
        else
        {
            next = old * (target / sampledAtOld);
            if (next > old && (next - old) / old > _options.PercentageIncreaseCap)
            {
                next = old * (1 + _options.PercentageIncreaseCap);
            }
        }

        return Floor(key.Service, key.Operation, Math.Min(1, Math.Max(_options.MinSamplingProbability, next)));
    }

    private double Floor(string service, string operation, double probability)
    {
        foreach (var critical in _critical)
        {
            if (critical.Matches(service, operation))
            {
                probability = Math.Max(probability, critical.MinProbability);
            }
        }

        return probability;
    }

    private static double[] Weights(int length)
    {
        var weights = new double[length];
        double sum = 0;
        for (var i = 0; i < length; i++)
        {
            weights[i] = Math.Pow(length - i, 4);
            sum += weights[i];
        }

        for (var i = 0; i < length; i++)
        {
            weights[i] /= sum;
        }

        return weights;
    }

    /// <summary>
    /// Jaeger's adaptive response (PROBABILISTIC with operationSampling: the initial probability as default, the
    /// minimum samples per second as lower bound, one entry per known operation). Ariadne adds probabilisticSampling
    /// with the default probability: the proto allows both, Jaeger SDKs use operationSampling when present, and
    /// OpenTelemetry's remote samplers (JS, Java) need probabilisticSampling when the operation list is empty.
    /// </summary>
    private SamplingStrategy DefaultStrategy(string tenant, string service)
    {
        var operations = new List<OperationStrategy>();
        foreach (var critical in _critical)
        {
            if (critical.Service == service && !string.IsNullOrEmpty(critical.Operation))
            {
                operations.Add(new OperationStrategy(critical.Operation, Served(new OperationKey(tenant, service, critical.Operation))));
            }
        }

        var serviceDefault = Floor(service, string.Empty, _options.InitialSamplingProbability);
        return SamplingStrategy.Probabilistic(serviceDefault, new PerOperationStrategies(serviceDefault, _options.MinSamplesPerSecond, operations));
    }

    private void Publish()
    {
        _responses.Clear();
        foreach (var service in _probabilities.GroupBy(p => (p.Key.Tenant, p.Key.Service)))
        {
            var (tenant, name) = service.Key;
            var strategy = DefaultStrategy(tenant, name);
            var operations = strategy.OperationSampling!.Operations.Where(o => !_probabilities.ContainsKey(new OperationKey(tenant, name, o.Operation))).ToList();
            operations.AddRange(service.OrderBy(p => p.Key.Operation, StringComparer.Ordinal).Select(p => new OperationStrategy(p.Key.Operation, p.Value)));
            _responses[service.Key] = strategy with { OperationSampling = strategy.OperationSampling with { Operations = operations } };
        }
    }

    private void SaveState()
    {
        var state = new PersistedState
        {
            Probabilities = _probabilities.Select(p => new PersistedProbability { Tenant = p.Key.Tenant, Service = p.Key.Service, Operation = p.Key.Operation, Probability = p.Value }).ToList(),
            Buckets = _buckets.Select(b => new PersistedBucket
            {
                End = b.End,
                Seconds = b.Seconds,
                Operations = b.Operations.Select(o => new PersistedCounts { Tenant = o.Key.Tenant, Service = o.Key.Service, Operation = o.Key.Operation, Sampled = o.Value.Sampled, Estimated = o.Value.Estimated }).ToList(),
            }).ToList(),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(_stateFile)!);
        DurableFiles.Replace(_files, _stateFile, JsonSerializer.SerializeToUtf8Bytes(state, s_json));
    }

    private void LoadState()
    {
        if (!File.Exists(_stateFile))
        {
            return;
        }

        try
        {
            var state = JsonSerializer.Deserialize<PersistedState>(File.ReadAllBytes(_stateFile), s_json);
            if (state is null)
            {
                return;
            }

            foreach (var p in state.Probabilities)
            {
                _probabilities[new OperationKey(p.Tenant ?? _defaultTenant, p.Service, p.Operation)] = p.Probability;
            }

            foreach (var b in state.Buckets.Take(_options.AggregationBuckets))
            {
                var bucket = new Bucket { End = b.End, Seconds = b.Seconds };
                foreach (var o in b.Operations)
                {
                    bucket.Operations[new OperationKey(o.Tenant ?? _defaultTenant, o.Service, o.Operation)] = new Counts(o.Sampled, o.Estimated);
                }

                _buckets.Add(bucket);
            }

            _logger.LogInformation("Adaptive sampling resumed with {Count} operation probabilities from {File}", _probabilities.Count, _stateFile);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            _logger.LogWarning("Ignoring unreadable adaptive sampling state {File} ({Message}); starting from the initial probability.", _stateFile, e.Message);
        }
    }

    private readonly record struct OperationKey(string Tenant, string Service, string Operation);

    private readonly record struct Counts(double Sampled, double Estimated);

    private sealed class Bucket
    {
        public DateTimeOffset End { get; init; }

        public double Seconds { get; init; }

        public Dictionary<OperationKey, Counts> Operations { get; } = [];
    }

    private sealed class PersistedState
    {
        public List<PersistedProbability> Probabilities { get; set; } = [];

        public List<PersistedBucket> Buckets { get; set; } = [];
    }

    private sealed class PersistedProbability
    {
        /// <summary>Null in a state file written before tenants were kept apart: the default tenant's.</summary>
        public string? Tenant { get; set; }

        public string Service { get; set; } = string.Empty;

        public string Operation { get; set; } = string.Empty;

        public double Probability { get; set; }
    }

    private sealed class PersistedBucket
    {
        public DateTimeOffset End { get; set; }

        public double Seconds { get; set; }

        public List<PersistedCounts> Operations { get; set; } = [];
    }

    private sealed class PersistedCounts
    {
        public string? Tenant { get; set; }

        public string Service { get; set; } = string.Empty;

        public string Operation { get; set; } = string.Empty;

        public double Sampled { get; set; }

        public double Estimated { get; set; }
    }
}
