using Microsoft.Extensions.Configuration;

namespace Ariadne.Sampling;

/// <summary>
/// Head sampling served to SDKs (static strategies or adaptive), and tail sampling in the ingest pipeline.
/// Config section <c>Sampling</c>; tail policies use the OTel Collector <c>tail_sampling</c> names and keys.
/// </summary>
public sealed class SamplingOptions
{
    public const string StaticMode = "static";
    public const string AdaptiveMode = "adaptive";

    /// <summary>static (strategies file or the default probability) or adaptive (Jaeger's adaptive sampling).</summary>
    public string Mode { get; set; } = StaticMode;

    /// <summary>A strategies file in Jaeger's format (default_strategy, service_strategies, operation_strategies).</summary>
    public string? StrategiesFile { get; set; }

    /// <summary>How often the strategies file is checked for changes.</summary>
    public TimeSpan StrategiesReloadInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Probability served when no strategies file names the service (Jaeger's default, 0.001).</summary>
    public double DefaultSamplingProbability { get; set; } = 0.001;

    public AdaptiveSamplingOptions Adaptive { get; set; } = new();

    /// <summary>
    /// Operations that must not be sampled away: adaptive sampling never serves them less than their floor,
    /// and the tail sampler keeps every trace that contains one.
    /// </summary>
    public List<BusinessCriticalOperation> BusinessCritical { get; set; } = [];

    public TailSamplingOptions Tail { get; set; } = new();
}

/// <summary>A service (and optionally one of its operations) whose traces matter more than the rest.</summary>
public sealed class BusinessCriticalOperation
{
    public string Service { get; set; } = string.Empty;

    /// <summary>Span name; empty means every operation of the service.</summary>
    public string? Operation { get; set; }

    /// <summary>The lowest head-sampling probability adaptive sampling serves for it.</summary>
    public double MinProbability { get; set; } = 1.0;

    public bool Matches(string service, string operation) =>
        string.Equals(Service, service, StringComparison.Ordinal)
        && (string.IsNullOrEmpty(Operation) || string.Equals(Operation, operation, StringComparison.Ordinal));
}

/// <summary>Jaeger's adaptive sampling settings, with Jaeger's defaults.</summary>
public sealed class AdaptiveSamplingOptions
{
    /// <summary>Sampled traces per second aimed at for every operation.</summary>
    public double TargetSamplesPerSecond { get; set; } = 1;

    /// <summary>Relative deviation from the target that is left alone, to keep probabilities from flapping.</summary>
    public double DeltaTolerance { get; set; } = 0.3;

    public TimeSpan CalculationInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Throughput buckets kept (Jaeger's aggregation_buckets).</summary>
    public int AggregationBuckets { get; set; } = 10;

    /// <summary>Most recent buckets averaged (weights i^4, newest heaviest) for the throughput estimate.</summary>
    public int BucketsForCalculation { get; set; } = 1;

    public double InitialSamplingProbability { get; set; } = 0.001;

    public double MinSamplingProbability { get; set; } = 1e-5;

    /// <summary>Served as defaultLowerBoundTracesPerSecond, so even rare operations are sampled about once a minute.</summary>
    public double MinSamplesPerSecond { get; set; } = 1.0 / 60;

    /// <summary>Largest relative increase of a probability per calculation (Jaeger caps at +100%).</summary>
    public double PercentageIncreaseCap { get; set; } = 1.0;
}

/// <summary>Tail sampling: traces held for a decision, then kept or dropped by policies.</summary>
public sealed class TailSamplingOptions
{
    /// <summary>On by default; with no policies every trace is kept and nothing is held back.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long after its last span a trace waits for more before the decision.</summary>
    public TimeSpan DecisionWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Traces held at most; over it the oldest are decided early.</summary>
    public int MaxTraces { get; set; } = 50_000;

    /// <summary>Estimated bytes of held spans at most; over it the oldest traces are decided early.</summary>
    public long MaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Decisions remembered so late spans follow their trace.</summary>
    public int DecisionCacheSize { get; set; } = 200_000;

    /// <summary>Keep every trace with an error span, whatever the policies say.</summary>
    public bool AlwaysKeepErrors { get; set; } = true;

    /// <summary>Buffer shards; more shards, less contention between concurrent ingest requests.</summary>
    public int Shards { get; set; } = 16;

    public List<TailPolicyOptions> Policies { get; set; } = [];
}

/// <summary>One policy, shaped like an OTel Collector tail_sampling policy: a name, a type, and that type's block.</summary>
public sealed class TailPolicyOptions
{
    [ConfigurationKeyName("name")]
    public string Name { get; set; } = string.Empty;

    [ConfigurationKeyName("type")]
    public string Type { get; set; } = string.Empty;

    [ConfigurationKeyName("status_code")]
    public StatusCodePolicyOptions? StatusCode { get; set; }

    [ConfigurationKeyName("latency")]
    public LatencyPolicyOptions? Latency { get; set; }

    [ConfigurationKeyName("string_attribute")]
    public StringAttributePolicyOptions? StringAttribute { get; set; }

    [ConfigurationKeyName("numeric_attribute")]
    public NumericAttributePolicyOptions? NumericAttribute { get; set; }

    [ConfigurationKeyName("rate_limiting")]
    public RateLimitingPolicyOptions? RateLimiting { get; set; }

    [ConfigurationKeyName("probabilistic")]
    public ProbabilisticPolicyOptions? Probabilistic { get; set; }

    [ConfigurationKeyName("and")]
    public AndPolicyOptions? And { get; set; }

    [ConfigurationKeyName("composite")]
    public CompositePolicyOptions? Composite { get; set; }
}

public sealed class StatusCodePolicyOptions
{
    /// <summary>ERROR, OK and/or UNSET.</summary>
    [ConfigurationKeyName("status_codes")]
    public List<string> StatusCodes { get; set; } = [];
}

/// <summary>
/// The collector's latency policy (trace duration, first start to last end), plus Ariadne's per-service/operation
/// form: with <see cref="Service"/> set, the durations of that service's (operation's) spans are compared instead.
/// </summary>
public sealed class LatencyPolicyOptions
{
    [ConfigurationKeyName("threshold_ms")]
    public long ThresholdMs { get; set; }

    [ConfigurationKeyName("upper_threshold_ms")]
    public long UpperThresholdMs { get; set; }

    [ConfigurationKeyName("service")]
    public string? Service { get; set; }

    [ConfigurationKeyName("operation")]
    public string? Operation { get; set; }
}

public sealed class StringAttributePolicyOptions
{
    [ConfigurationKeyName("key")]
    public string Key { get; set; } = string.Empty;

    /// <summary>Values to match; empty means "the attribute is present".</summary>
    [ConfigurationKeyName("values")]
    public List<string> Values { get; set; } = [];

    [ConfigurationKeyName("enabled_regex_matching")]
    public bool EnabledRegexMatching { get; set; }

    [ConfigurationKeyName("invert_match")]
    public bool InvertMatch { get; set; }
}

public sealed class NumericAttributePolicyOptions
{
    [ConfigurationKeyName("key")]
    public string Key { get; set; } = string.Empty;

    [ConfigurationKeyName("min_value")]
    public double? MinValue { get; set; }

    [ConfigurationKeyName("max_value")]
    public double? MaxValue { get; set; }

    [ConfigurationKeyName("invert_match")]
    public bool InvertMatch { get; set; }
}

/// <summary>
/// The collector's spans_per_second budget, plus Ariadne's traces_per_second, optionally counted per root
/// service and operation (per_operation).
/// </summary>
public sealed class RateLimitingPolicyOptions
{
    [ConfigurationKeyName("spans_per_second")]
    public long SpansPerSecond { get; set; }

    [ConfigurationKeyName("traces_per_second")]
    public double TracesPerSecond { get; set; }

    [ConfigurationKeyName("per_operation")]
    public bool PerOperation { get; set; }
}

public sealed class ProbabilisticPolicyOptions
{
    [ConfigurationKeyName("hash_salt")]
    public string HashSalt { get; set; } = string.Empty;

    [ConfigurationKeyName("sampling_percentage")]
    public double SamplingPercentage { get; set; }
}

public sealed class AndPolicyOptions
{
    [ConfigurationKeyName("and_sub_policy")]
    public List<TailPolicyOptions> SubPolicies { get; set; } = [];
}

public sealed class CompositePolicyOptions
{
    [ConfigurationKeyName("max_total_spans_per_second")]
    public long MaxTotalSpansPerSecond { get; set; }

    [ConfigurationKeyName("policy_order")]
    public List<string> PolicyOrder { get; set; } = [];

    [ConfigurationKeyName("composite_sub_policy")]
    public List<TailPolicyOptions> SubPolicies { get; set; } = [];

    [ConfigurationKeyName("rate_allocation")]
    public List<RateAllocationOptions> RateAllocation { get; set; } = [];
}

public sealed class RateAllocationOptions
{
    [ConfigurationKeyName("policy")]
    public string Policy { get; set; } = string.Empty;

    [ConfigurationKeyName("percent")]
    public double Percent { get; set; }
}
