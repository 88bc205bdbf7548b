using System.Globalization;
using Ariadne.Sampling.Remote;
using Ariadne.Sampling.Tail;

namespace Ariadne.Sampling;

/// <summary>Start-up checks of the Sampling section; every message names the key or the bad entry.</summary>
public static class SamplingOptionsValidator
{
    public static void Validate(SamplingOptions options, List<string> errors)
    {
        if (options.Mode is not (SamplingOptions.StaticMode or SamplingOptions.AdaptiveMode))
        {
            errors.Add($"Sampling:Mode: '{options.Mode}' is not a sampling mode; use static or adaptive.");
        }

        CheckProbability(errors, "Sampling:DefaultSamplingProbability", options.DefaultSamplingProbability);
        if (options.StrategiesFile is { } file)
        {
            if (!File.Exists(file))
            {
                errors.Add($"Sampling:StrategiesFile: '{Path.GetFullPath(file)}' does not exist; give the path of a Jaeger sampling strategies JSON file.");
            }
            else
            {
                var fileErrors = new List<string>();
                StrategiesFile.Parse(File.ReadAllText(file), options.DefaultSamplingProbability, fileErrors);
                errors.AddRange(fileErrors.Select(e => $"Sampling:StrategiesFile '{file}': {e}"));
            }

            if (options.Mode == SamplingOptions.AdaptiveMode)
            {
                errors.Add("Sampling:StrategiesFile: adaptive mode computes strategies itself; remove the file or use Mode static.");
            }
        }

        if (options.StrategiesReloadInterval <= TimeSpan.Zero)
        {
            errors.Add($"Sampling:StrategiesReloadInterval: {options.StrategiesReloadInterval} must be positive.");
        }

        var adaptive = options.Adaptive;
        if (adaptive.TargetSamplesPerSecond <= 0)
        {
            errors.Add($"Sampling:Adaptive:TargetSamplesPerSecond: {Format(adaptive.TargetSamplesPerSecond)} must be above 0 (default 1).");
        }

        if (adaptive.DeltaTolerance is <= 0 or >= 1)
        {
            errors.Add($"Sampling:Adaptive:DeltaTolerance: {Format(adaptive.DeltaTolerance)} must be between 0 and 1 (default 0.3).");
        }

        if (adaptive.CalculationInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"Sampling:Adaptive:CalculationInterval: {adaptive.CalculationInterval} is too short; use at least 00:00:01 (default 00:01:00).");
        }

        if (adaptive.AggregationBuckets < 1 || adaptive.BucketsForCalculation < 1 || adaptive.BucketsForCalculation > adaptive.AggregationBuckets)
        {
            errors.Add($"Sampling:Adaptive:AggregationBuckets/BucketsForCalculation: {adaptive.AggregationBuckets}/{adaptive.BucketsForCalculation}; both must be at least 1, and BucketsForCalculation at most AggregationBuckets.");
        }

        CheckProbability(errors, "Sampling:Adaptive:InitialSamplingProbability", adaptive.InitialSamplingProbability);
        CheckProbability(errors, "Sampling:Adaptive:MinSamplingProbability", adaptive.MinSamplingProbability);
        if (adaptive.MinSamplesPerSecond < 0)
        {
            errors.Add($"Sampling:Adaptive:MinSamplesPerSecond: {Format(adaptive.MinSamplesPerSecond)} must not be negative.");
        }

        if (adaptive.PercentageIncreaseCap <= 0)
        {
            errors.Add($"Sampling:Adaptive:PercentageIncreaseCap: {Format(adaptive.PercentageIncreaseCap)} must be above 0 (default 1, at most doubling).");
        }

        for (var i = 0; i < options.BusinessCritical.Count; i++)
        {
            var critical = options.BusinessCritical[i];
            if (string.IsNullOrEmpty(critical.Service))
            {
                errors.Add($"Sampling:BusinessCritical[{i}]: Service is missing; name the service (and optionally the Operation).");
            }

            CheckProbability(errors, $"Sampling:BusinessCritical[{i}]:MinProbability", critical.MinProbability);
        }

        var tail = options.Tail;
        if (tail.DecisionWait <= TimeSpan.Zero)
        {
            errors.Add($"Sampling:Tail:DecisionWait: {tail.DecisionWait} must be positive (default 00:00:10).");
        }

        if (tail.MaxTraces < 1 || tail.MaxBytes < 1024 || tail.DecisionCacheSize < 0 || tail.Shards is < 1 or > 1024)
        {
            errors.Add("Sampling:Tail: MaxTraces must be at least 1, MaxBytes at least 1024, DecisionCacheSize not negative, Shards 1 to 1024.");
        }

        TailPolicyFactory.Build(tail.Policies, "Sampling:Tail:Policies", TimeProvider.System, errors);
    }

    private static void CheckProbability(List<string> errors, string key, double value)
    {
        if (value is < 0 or > 1 || double.IsNaN(value))
        {
            errors.Add($"{key}: {Format(value)} is not a probability; use 0 to 1.");
        }
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
