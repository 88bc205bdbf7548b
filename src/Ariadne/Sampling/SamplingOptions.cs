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

/// <summary>
/// One policy, shaped like an OTel Collector tail_sampling policy: a name, a type, and that type's block.
/// <para>
/// The properties are spelled like the Collector's snake_case keys (matched case-insensitively) rather than mapped
/// with [ConfigurationKeyName]: the binder's unknown-key check (ErrorOnUnknownConfiguration) compares keys with
/// property names and ignores that attribute, so a mapped name would be rejected as unknown.
/// </para>
/// </summary>
public sealed class TailPolicyOptions
{
    public string Name { get; set; } = string.Empty;

    public string Type { get; set; } = string.Empty;

    public StatusCodePolicyOptions? Status_Code { get; set; }

    public LatencyPolicyOptions? Latency { get; set; }

    public StringAttributePolicyOptions? String_Attribute { get; set; }

    public NumericAttributePolicyOptions? Numeric_Attribute { get; set; }

    public RateLimitingPolicyOptions? Rate_Limiting { get; set; }

    public ProbabilisticPolicyOptions? Probabilistic { get; set; }

    public AndPolicyOptions? And { get; set; }

    public CompositePolicyOptions? Composite { get; set; }
}

public sealed class StatusCodePolicyOptions
{
    /// <summary>ERROR, OK and/or UNSET.</summary>
    public List<string> Status_Codes { get; set; } = [];
}

/// <summary>
/// The collector's latency policy (trace duration, first start to last end), plus Ariadne's per-service/operation
/// form: with <see cref="Service"/> set, the durations of that service's (operation's) spans are compared instead.
/// </summary>
public sealed class LatencyPolicyOptions
{
    public long Threshold_Ms { get; set; }

    public long Upper_Threshold_Ms { get; set; }

    public string? Service { get; set; }

    public string? Operation { get; set; }
}

public sealed class StringAttributePolicyOptions
{
    public string Key { get; set; } = string.Empty;

    /// <summary>Values to match; empty means "the attribute is present".</summary>
    public List<string> Values { get; set; } = [];

    public bool Enabled_Regex_Matching { get; set; }

    public bool Invert_Match { get; set; }
}

public sealed class NumericAttributePolicyOptions
{
    public string Key { get; set; } = string.Empty;

    public double? Min_Value { get; set; }

    public double? Max_Value { get; set; }

    public bool Invert_Match { get; set; }
}

/// <summary>
/// The collector's spans_per_second budget, plus Ariadne's traces_per_second, optionally counted per root
/// service and operation (per_operation).
/// </summary>
public sealed class RateLimitingPolicyOptions
{
    public long Spans_Per_Second { get; set; }

    public double Traces_Per_Second { get; set; }

    public bool Per_Operation { get; set; }
}

public sealed class ProbabilisticPolicyOptions
{
    public string Hash_Salt { get; set; } = string.Empty;

    public double Sampling_Percentage { get; set; }
}

public sealed class AndPolicyOptions
{
    public List<TailPolicyOptions> And_Sub_Policy { get; set; } = [];
}

public sealed class CompositePolicyOptions
{
    public long Max_Total_Spans_Per_Second { get; set; }

    public List<string> Policy_Order { get; set; } = [];

    public List<TailPolicyOptions> Composite_Sub_Policy { get; set; } = [];

    public List<RateAllocationOptions> Rate_Allocation { get; set; } = [];
}

public sealed class RateAllocationOptions
{
    public string Policy { get; set; } = string.Empty;

    public double Percent { get; set; }
}
