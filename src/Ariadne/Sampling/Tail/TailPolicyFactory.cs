using System.Text.RegularExpressions;
using Ariadne.Model;

namespace Ariadne.Sampling.Tail;

/// <summary>
/// Builds policies from <see cref="TailPolicyOptions"/>, reporting every mistake with the policy's place and name
/// (<c>Sampling:Tail:Policies[2] 'slow-checkout': latency.threshold_ms must be positive</c>).
/// </summary>
public static class TailPolicyFactory
{
    public static readonly string[] Types =
        ["always_sample", "status_code", "latency", "string_attribute", "numeric_attribute", "rate_limiting", "probabilistic", "and", "composite"];

    public static List<TailPolicy> Build(IReadOnlyList<TailPolicyOptions> policies, string path, TimeProvider time, List<string> errors)
    {
        var built = new List<TailPolicy>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < policies.Count; i++)
        {
            var options = policies[i];
            var where = $"{path}[{i}]" + (options.Name.Length > 0 ? $" '{options.Name}'" : string.Empty);
            if (options.Name.Length == 0)
            {
                errors.Add($"{where}: name is missing; give every policy a name (it labels the decision metrics).");
                continue;
            }

            if (!names.Add(options.Name))
            {
                errors.Add($"{where}: another policy has the same name; names must be unique.");
                continue;
            }

            if (Build(options, where, time, errors) is { } policy)
            {
                built.Add(policy);
            }
        }

        return built;
    }

    private static TailPolicy? Build(TailPolicyOptions options, string where, TimeProvider time, List<string> errors)
    {
        var name = options.Name;
        switch (options.Type)
        {
            case "always_sample":
                return new AlwaysSamplePolicy(name);
            case "status_code":
            {
                var codes = new List<StatusCode>();
                foreach (var code in Require(options.StatusCode, "status_code", where, errors)?.StatusCodes ?? [])
                {
                    switch (code.ToUpperInvariant())
                    {
                        case "ERROR": codes.Add(StatusCode.Error); break;
                        case "OK": codes.Add(StatusCode.Ok); break;
                        case "UNSET": codes.Add(StatusCode.Unset); break;
                        default: errors.Add($"{where}: status_code.status_codes has '{code}'; use ERROR, OK or UNSET."); return null;
                    }
                }

                if (options.StatusCode is not null && codes.Count == 0)
                {
                    errors.Add($"{where}: status_code.status_codes is empty; list ERROR, OK and/or UNSET.");
                    return null;
                }

                return codes.Count == 0 ? null : new StatusCodePolicy(name, codes.ToHashSet());
            }

            case "latency":
            {
                var latency = Require(options.Latency, "latency", where, errors);
                if (latency is null)
                {
                    return null;
                }

                if (latency.ThresholdMs <= 0 && latency.UpperThresholdMs <= 0)
                {
                    errors.Add($"{where}: latency.threshold_ms must be positive (milliseconds; traces at least this long are kept).");
                    return null;
                }

                if (latency.UpperThresholdMs > 0 && latency.UpperThresholdMs < latency.ThresholdMs)
                {
                    errors.Add($"{where}: latency.upper_threshold_ms ({latency.UpperThresholdMs}) is below threshold_ms ({latency.ThresholdMs}).");
                    return null;
                }

                if (latency.Operation is not null && latency.Service is null)
                {
                    errors.Add($"{where}: latency.operation needs latency.service (the service the operation belongs to).");
                    return null;
                }

                return new LatencyPolicy(name, latency.ThresholdMs, latency.UpperThresholdMs, latency.Service, latency.Operation);
            }

            case "string_attribute":
            {
                var attribute = Require(options.StringAttribute, "string_attribute", where, errors);
                if (attribute is null || !RequireKey(attribute.Key, "string_attribute", where, errors))
                {
                    return null;
                }

                if (attribute.EnabledRegexMatching)
                {
                    foreach (var value in attribute.Values)
                    {
                        try
                        {
                            _ = new Regex(value);
                        }
                        catch (ArgumentException e)
                        {
                            errors.Add($"{where}: string_attribute.values has '{value}', not a regular expression: {e.Message}");
                            return null;
                        }
                    }
                }

                return new StringAttributePolicy(name, attribute.Key, attribute.Values, attribute.EnabledRegexMatching, attribute.InvertMatch);
            }

            case "numeric_attribute":
            {
                var attribute = Require(options.NumericAttribute, "numeric_attribute", where, errors);
                if (attribute is null || !RequireKey(attribute.Key, "numeric_attribute", where, errors))
                {
                    return null;
                }

                if (attribute.MinValue is null && attribute.MaxValue is null)
                {
                    errors.Add($"{where}: numeric_attribute needs min_value and/or max_value.");
                    return null;
                }

                if (attribute.MinValue > attribute.MaxValue)
                {
                    errors.Add($"{where}: numeric_attribute.min_value ({attribute.MinValue}) is above max_value ({attribute.MaxValue}).");
                    return null;
                }

                return new NumericAttributePolicy(name, attribute.Key, attribute.MinValue, attribute.MaxValue, attribute.InvertMatch);
            }

            case "rate_limiting":
            {
                var rate = Require(options.RateLimiting, "rate_limiting", where, errors);
                if (rate is null)
                {
                    return null;
                }

                if (rate.SpansPerSecond <= 0 && rate.TracesPerSecond <= 0)
                {
                    errors.Add($"{where}: rate_limiting needs spans_per_second and/or traces_per_second above 0.");
                    return null;
                }

                return new RateLimitingPolicy(name, rate.SpansPerSecond, rate.TracesPerSecond, rate.PerOperation, time);
            }

            case "probabilistic":
            {
                var probabilistic = Require(options.Probabilistic, "probabilistic", where, errors);
                if (probabilistic is null)
                {
                    return null;
                }

                if (probabilistic.SamplingPercentage is < 0 or > 100 or double.NaN)
                {
                    errors.Add($"{where}: probabilistic.sampling_percentage {probabilistic.SamplingPercentage} must be 0 to 100.");
                    return null;
                }

                return new ProbabilisticPolicy(name, probabilistic.HashSalt, probabilistic.SamplingPercentage);
            }

            case "and":
            {
                var and = Require(options.And, "and", where, errors);
                if (and is null)
                {
                    return null;
                }

                if (and.SubPolicies.Count == 0)
                {
                    errors.Add($"{where}: and.and_sub_policy is empty; list the policies that must all keep a trace.");
                    return null;
                }

                var count = errors.Count;
                var subs = Build(and.SubPolicies, $"{where}: and.and_sub_policy", time, errors);
                return errors.Count > count ? null : new AndPolicy(name, subs);
            }

            case "composite":
                return BuildComposite(options, where, time, errors);

            default:
                errors.Add($"{where}: type '{options.Type}' is not a policy type; use one of {string.Join(", ", Types)}.");
                return null;
        }
    }

    private static CompositePolicy? BuildComposite(TailPolicyOptions options, string where, TimeProvider time, List<string> errors)
    {
        var composite = Require(options.Composite, "composite", where, errors);
        if (composite is null)
        {
            return null;
        }

        if (composite.MaxTotalSpansPerSecond <= 0)
        {
            errors.Add($"{where}: composite.max_total_spans_per_second must be positive.");
            return null;
        }

        var count = errors.Count;
        var subs = Build(composite.SubPolicies, $"{where}: composite.composite_sub_policy", time, errors);
        if (errors.Count > count)
        {
            return null;
        }

        var order = composite.PolicyOrder.Count > 0 ? composite.PolicyOrder : subs.Select(s => s.Name).ToList();
        var ordered = new List<(TailPolicy, double)>();
        double percentTotal = 0;
        foreach (var policyName in order)
        {
            var sub = subs.FirstOrDefault(s => s.Name == policyName);
            if (sub is null)
            {
                errors.Add($"{where}: composite.policy_order names '{policyName}', which is not in composite_sub_policy.");
                continue;
            }

            var allocation = composite.RateAllocation.FirstOrDefault(a => a.Policy == policyName);
            var percent = allocation?.Percent ?? (composite.RateAllocation.Count == 0 ? 100.0 / order.Count : 0);
            percentTotal += percent;
            ordered.Add((sub, composite.MaxTotalSpansPerSecond * percent / 100));
        }

        foreach (var allocation in composite.RateAllocation.Where(a => !order.Contains(a.Policy)))
        {
            errors.Add($"{where}: composite.rate_allocation names '{allocation.Policy}', which is not in policy_order.");
        }

        if (percentTotal > 100.0001)
        {
            errors.Add($"{where}: composite.rate_allocation percentages add up to {percentTotal}; they must not exceed 100.");
        }

        return errors.Count > count ? null : new CompositePolicy(options.Name, ordered, time);
    }

    private static T? Require<T>(T? block, string type, string where, List<string> errors)
        where T : class
    {
        if (block is null)
        {
            errors.Add($"{where}: type {type} needs a \"{type}\" block with its settings.");
        }

        return block;
    }

    private static bool RequireKey(string key, string type, string where, List<string> errors)
    {
        if (string.IsNullOrEmpty(key))
        {
            errors.Add($"{where}: {type}.key is missing; name the attribute to match.");
            return false;
        }

        return true;
    }
}
