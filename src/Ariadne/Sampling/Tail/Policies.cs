using System.Text;
using System.Text.RegularExpressions;
using Ariadne.Model;

namespace Ariadne.Sampling.Tail;

/// <summary>status_code: keeps traces with a span whose status is one of the listed (ERROR, OK, UNSET).</summary>
public sealed class StatusCodePolicy(string name, IReadOnlyCollection<StatusCode> codes) : TailPolicy(name)
{
    public override PolicyDecision Evaluate(TraceView trace)
    {
        foreach (var span in trace.Spans)
        {
            if (codes.Contains(span.StatusCode))
            {
                return PolicyDecision.Sampled;
            }
        }

        return PolicyDecision.NotSampled;
    }
}

/// <summary>
/// latency: keeps traces lasting at least threshold_ms (and at most upper_threshold_ms when set), measured from the
/// first span's start to the last span's end; with a service (and operation), the spans of that service are measured.
/// </summary>
public sealed class LatencyPolicy(string name, long thresholdMs, long upperThresholdMs, string? service, string? operation) : TailPolicy(name)
{
    private readonly long _lower = thresholdMs * 1_000_000;
    private readonly long _upper = upperThresholdMs > 0 ? upperThresholdMs * 1_000_000 : long.MaxValue;

    public override PolicyDecision Evaluate(TraceView trace)
    {
        if (service is not null)
        {
            foreach (var span in trace.Spans)
            {
                if (span.ServiceName == service && (operation is null || span.Name == operation) && InRange(span.DurationNanos))
                {
                    return PolicyDecision.Sampled;
                }
            }

            return PolicyDecision.NotSampled;
        }

        long start = long.MaxValue, end = long.MinValue;
        foreach (var span in trace.Spans)
        {
            start = Math.Min(start, span.StartTimeUnixNano);
            end = Math.Max(end, span.EndTimeUnixNano);
        }

        return InRange(end - start) ? PolicyDecision.Sampled : PolicyDecision.NotSampled;
    }

    private bool InRange(long nanos) => nanos >= _lower && nanos <= _upper;
}

/// <summary>Base of the attribute policies: looks at span attributes, then resource attributes, as the collector does.</summary>
public abstract class AttributePolicy(string name, string key, bool invertMatch) : TailPolicy(name)
{
    public override PolicyDecision Evaluate(TraceView trace)
    {
        Resource? lastResource = null;
        foreach (var span in trace.Spans)
        {
            if (span.TryGetAttribute(key, out var value) && Matches(value))
            {
                return invertMatch ? PolicyDecision.InvertNotSampled : PolicyDecision.Sampled;
            }

            if (!ReferenceEquals(span.Resource, lastResource))
            {
                lastResource = span.Resource;
                foreach (var attribute in span.Resource.Attributes)
                {
                    if (attribute.Key == key && Matches(attribute.Value))
                    {
                        return invertMatch ? PolicyDecision.InvertNotSampled : PolicyDecision.Sampled;
                    }
                }
            }
        }

        return invertMatch ? PolicyDecision.InvertSampled : PolicyDecision.NotSampled;
    }

    protected abstract bool Matches(AnyValue value);
}

/// <summary>string_attribute: one of the values (or regular expressions), or any value when none are listed.</summary>
public sealed class StringAttributePolicy : AttributePolicy
{
    private readonly HashSet<string>? _values;
    private readonly Regex[]? _patterns;

    public StringAttributePolicy(string name, string key, IReadOnlyList<string> values, bool regex, bool invertMatch)
        : base(name, key, invertMatch)
    {
        if (regex)
        {
            _patterns = values.Select(v => new Regex(v, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50))).ToArray();
        }
        else if (values.Count > 0)
        {
            _values = new HashSet<string>(values, StringComparer.Ordinal);
        }
    }

    protected override bool Matches(AnyValue value)
    {
        if (value.Type != AnyValueType.String)
        {
            return false;
        }

        var text = value.AsString;
        if (_patterns is not null)
        {
            foreach (var pattern in _patterns)
            {
                if (pattern.IsMatch(text))
                {
                    return true;
                }
            }

            return false;
        }

        return _values is null || _values.Contains(text);
    }
}

/// <summary>numeric_attribute: an int or double value within [min_value, max_value] (an open side when unset).</summary>
public sealed class NumericAttributePolicy(string name, string key, double? min, double? max, bool invertMatch) : AttributePolicy(name, key, invertMatch)
{
    protected override bool Matches(AnyValue value)
    {
        double number;
        switch (value.Type)
        {
            case AnyValueType.Int:
                number = value.AsInt;
                break;
            case AnyValueType.Double:
                number = value.AsDouble;
                break;
            default:
                return false;
        }

        return (min is null || number >= min) && (max is null || number <= max);
    }
}

/// <summary>
/// rate_limiting: keeps traces while a per-second budget lasts: spans_per_second (the collector's), and/or
/// traces_per_second, counted across all traces or per root service and operation (per_operation).
/// Token buckets refilled continuously, so fractional rates (0.5 traces/s) work.
/// </summary>
public sealed class RateLimitingPolicy : TailPolicy
{
    private readonly long _spansPerSecond;
    private readonly double _tracesPerSecond;
    private readonly bool _perOperation;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string, string), Buckets> _perOperationBuckets = [];
    private readonly Buckets _global;

    public RateLimitingPolicy(string name, long spansPerSecond, double tracesPerSecond, bool perOperation, TimeProvider time)
        : base(name)
    {
        _spansPerSecond = spansPerSecond;
        _tracesPerSecond = tracesPerSecond;
        _perOperation = perOperation;
        _time = time;
        _global = NewBuckets();
    }

    public override PolicyDecision Evaluate(TraceView trace)
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            var buckets = _global;
            if (_perOperation)
            {
                var key = (trace.Root.ServiceName, trace.Root.Name);
                if (!_perOperationBuckets.TryGetValue(key, out buckets!))
                {
                    if (_perOperationBuckets.Count >= 10_000)
                    {
                        _perOperationBuckets.Clear();
                    }

                    _perOperationBuckets[key] = buckets = NewBuckets();
                }
            }

            var spansOk = buckets.Spans?.TryTake(trace.Spans.Count, now, peek: true) ?? true;
            var tracesOk = buckets.Traces?.TryTake(1, now, peek: true) ?? true;
            if (!spansOk || !tracesOk)
            {
                return PolicyDecision.NotSampled;
            }

            buckets.Spans?.TryTake(trace.Spans.Count, now, peek: false);
            buckets.Traces?.TryTake(1, now, peek: false);
            return PolicyDecision.Sampled;
        }
    }

    private Buckets NewBuckets() => new(
        _spansPerSecond > 0 ? new TokenBucket(_spansPerSecond, _spansPerSecond, _time.GetTimestamp(), _time.TimestampFrequency) : null,
        _tracesPerSecond > 0 ? new TokenBucket(_tracesPerSecond, Math.Max(1, _tracesPerSecond), _time.GetTimestamp(), _time.TimestampFrequency) : null);

    private sealed record Buckets(TokenBucket? Spans, TokenBucket? Traces);
}

/// <summary>A token bucket over <see cref="TimeProvider"/> timestamps; not thread-safe (callers lock).</summary>
internal sealed class TokenBucket(double ratePerSecond, double capacity, long now, long frequency)
{
    private readonly double _capacity = capacity;
    private double _tokens = capacity;
    private long _last = now;

    public bool TryTake(double amount, long now, bool peek)
    {
        var elapsed = (double)(now - _last) / frequency;
        var tokens = Math.Min(_capacity, _tokens + (elapsed * ratePerSecond));
        if (!peek)
        {
            _tokens = tokens - amount;
            _last = now;
        }

        return tokens >= amount;
    }
}

/// <summary>probabilistic: keeps sampling_percentage % of traces, chosen by a salted hash of the trace id, so every
/// Ariadne instance with the same salt keeps the same traces.</summary>
public sealed class ProbabilisticPolicy(string name, string salt, double percentage) : TailPolicy(name)
{
    private readonly byte[] _salt = Encoding.UTF8.GetBytes(salt);
    private readonly ulong _threshold = percentage >= 100 ? ulong.MaxValue : (ulong)(percentage / 100 * ulong.MaxValue);

    public override PolicyDecision Evaluate(TraceView trace)
    {
        if (_threshold == ulong.MaxValue)
        {
            return PolicyDecision.Sampled;
        }

        Span<byte> id = stackalloc byte[TraceId.ByteLength];
        trace.TraceId.WriteBytes(id);
        var hash = 14695981039346656037UL;
        foreach (var b in _salt)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        foreach (var b in id)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        // FNV's low bits are weak for short inputs; a final mix spreads them before the comparison.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return hash < _threshold ? PolicyDecision.Sampled : PolicyDecision.NotSampled;
    }
}

/// <summary>and: keeps a trace only when every sub-policy keeps it.</summary>
public sealed class AndPolicy(string name, IReadOnlyList<TailPolicy> subPolicies) : TailPolicy(name)
{
    public override PolicyDecision Evaluate(TraceView trace)
    {
        foreach (var policy in subPolicies)
        {
            if (policy.Evaluate(trace) is not (PolicyDecision.Sampled or PolicyDecision.InvertSampled))
            {
                return PolicyDecision.NotSampled;
            }
        }

        return PolicyDecision.Sampled;
    }
}

/// <summary>
/// composite: sub-policies in policy_order, each with a share (rate_allocation percent) of
/// max_total_spans_per_second; the first that keeps the trace within its share keeps it.
/// </summary>
public sealed class CompositePolicy : TailPolicy
{
    private readonly (TailPolicy Policy, TokenBucket Budget)[] _ordered;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    public CompositePolicy(string name, IReadOnlyList<(TailPolicy Policy, double SpansPerSecond)> ordered, TimeProvider time)
        : base(name)
    {
        _time = time;
        var now = time.GetTimestamp();
        _ordered = ordered.Select(o => (o.Policy, new TokenBucket(o.SpansPerSecond, o.SpansPerSecond, now, time.TimestampFrequency))).ToArray();
    }

    public override PolicyDecision Evaluate(TraceView trace)
    {
        foreach (var (policy, budget) in _ordered)
        {
            if (policy.Evaluate(trace) is PolicyDecision.Sampled or PolicyDecision.InvertSampled)
            {
                lock (_lock)
                {
                    var now = _time.GetTimestamp();
                    if (budget.TryTake(trace.Spans.Count, now, peek: true))
                    {
                        budget.TryTake(trace.Spans.Count, now, peek: false);
                        return PolicyDecision.Sampled;
                    }
                }
            }
        }

        return PolicyDecision.NotSampled;
    }
}

/// <summary>always_sample: keeps everything (the collector's debugging policy).</summary>
public sealed class AlwaysSamplePolicy(string name) : TailPolicy(name)
{
    public override PolicyDecision Evaluate(TraceView trace) => PolicyDecision.Sampled;
}
