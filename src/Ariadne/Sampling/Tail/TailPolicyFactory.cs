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
                foreach (var code in Require(options.Status_Code, "status_code", where, errors)?.Status_Codes ?? [])
                {
                    switch (code.ToUpperInvariant())
                    {
                        case "ERROR": codes.Add(StatusCode.Error); break;
                        case "OK": codes.Add(StatusCode.Ok); break;
                        case "UNSET": codes.Add(StatusCode.Unset); break;
                        default: errors.Add($"{where}: status_code.status_codes has '{code}'; use ERROR, OK or UNSET."); return null;
                    }
                }

                if (options.Status_Code is not null && codes.Count == 0)
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

                if (latency.Threshold_Ms <= 0 && latency.Upper_Threshold_Ms <= 0)
                {
                    errors.Add($"{where}: latency.threshold_ms must be positive (milliseconds; traces at least this long are kept).");
                    return null;
                }

                if (latency.Upper_Threshold_Ms > 0 && latency.Upper_Threshold_Ms < latency.Threshold_Ms)
                {
                    errors.Add($"{where}: latency.upper_threshold_ms ({latency.Upper_Threshold_Ms}) is below threshold_ms ({latency.Threshold_Ms}).");
                    return null;
                }

                if (latency.Operation is not null && latency.Service is null)
                {
                    errors.Add($"{where}: latency.operation needs latency.service (the service the operation belongs to).");
                    return null;
                }

                return new LatencyPolicy(name, latency.Threshold_Ms, latency.Upper_Threshold_Ms, latency.Service, latency.Operation);
            }

            case "string_attribute":
            {
                var attribute = Require(options.String_Attribute, "string_attribute", where, errors);
                if (attribute is null || !RequireKey(attribute.Key, "string_attribute", where, errors))
                {
                    return null;
                }

                if (attribute.Enabled_Regex_Matching)
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

                return new StringAttributePolicy(name, attribute.Key, attribute.Values, attribute.Enabled_Regex_Matching, attribute.Invert_Match);
            }

            case "numeric_attribute":
            {
                var attribute = Require(options.Numeric_Attribute, "numeric_attribute", where, errors);
                if (attribute is null || !RequireKey(attribute.Key, "numeric_attribute", where, errors))
                {
                    return null;
                }

                if (attribute.Min_Value is null && attribute.Max_Value is null)
                {
                    errors.Add($"{where}: numeric_attribute needs min_value and/or max_value.");
                    return null;
                }

                if (attribute.Min_Value > attribute.Max_Value)
                {
                    errors.Add($"{where}: numeric_attribute.min_value ({attribute.Min_Value}) is above max_value ({attribute.Max_Value}).");
                    return null;
                }

                return new NumericAttributePolicy(name, attribute.Key, attribute.Min_Value, attribute.Max_Value, attribute.Invert_Match);
            }

            case "rate_limiting":
            {
                var rate = Require(options.Rate_Limiting, "rate_limiting", where, errors);
                if (rate is null)
                {
                    return null;
                }

                if (rate.Spans_Per_Second <= 0 && rate.Traces_Per_Second <= 0)
                {
                    errors.Add($"{where}: rate_limiting needs spans_per_second and/or traces_per_second above 0.");
                    return null;
                }

                return new RateLimitingPolicy(name, rate.Spans_Per_Second, rate.Traces_Per_Second, rate.Per_Operation, time);
            }

            case "probabilistic":
            {
                var probabilistic = Require(options.Probabilistic, "probabilistic", where, errors);
                if (probabilistic is null)
                {
                    return null;
                }

                if (probabilistic.Sampling_Percentage is < 0 or > 100 or double.NaN)
                {
                    errors.Add($"{where}: probabilistic.sampling_percentage {probabilistic.Sampling_Percentage} must be 0 to 100.");
                    return null;
                }

                return new ProbabilisticPolicy(name, probabilistic.Hash_Salt, probabilistic.Sampling_Percentage);
            }

            case "and":
            {
                var and = Require(options.And, "and", where, errors);
                if (and is null)
                {
                    return null;
                }

                if (and.And_Sub_Policy.Count == 0)
                {
                    errors.Add($"{where}: and.and_sub_policy is empty; list the policies that must all keep a trace.");
                    return null;
                }

                var count = errors.Count;
                var subs = Build(and.And_Sub_Policy, $"{where}: and.and_sub_policy", time, errors);
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

        if (composite.Max_Total_Spans_Per_Second <= 0)
        {
            errors.Add($"{where}: composite.max_total_spans_per_second must be positive.");
            return null;
        }

        var count = errors.Count;
        var subs = Build(composite.Composite_Sub_Policy, $"{where}: composite.composite_sub_policy", time, errors);
        if (errors.Count > count)
        {
            return null;
        }

        var order = composite.Policy_Order.Count > 0 ? composite.Policy_Order : subs.Select(s => s.Name).ToList();
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

            var allocation = composite.Rate_Allocation.FirstOrDefault(a => a.Policy == policyName);
            var percent = allocation?.Percent ?? (composite.Rate_Allocation.Count == 0 ? 100.0 / order.Count : 0);
            percentTotal += percent;
            ordered.Add((sub, composite.Max_Total_Spans_Per_Second * percent / 100));
        }

        foreach (var allocation in composite.Rate_Allocation.Where(a => !order.Contains(a.Policy)))
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
