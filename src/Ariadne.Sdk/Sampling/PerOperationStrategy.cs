using System.Collections.Concurrent;
using System.Text.Json;
using OpenTelemetry.Trace;

namespace Ariadne.Instrumentation.Sampling;

/// <summary>
/// Jaeger's per-operation strategy (its clients call it "guaranteed throughput probabilistic"): each root span
/// name has a sampling probability, and a lower-bound rate limiter keeps at least
/// <c>defaultLowerBoundTracesPerSecond</c> traces of every operation, so rare endpoints are never invisible.
/// </summary>
internal sealed class PerOperationStrategy : SamplingStrategy
{
    private readonly double _defaultProbability;
    private readonly double _lowerBound;
    private readonly IReadOnlyDictionary<string, double> _configured;
    private readonly ConcurrentDictionary<string, OperationSampler> _operations = new(StringComparer.Ordinal);
    private readonly OperationSampler _overflow;

    private PerOperationStrategy(double defaultProbability, double lowerBound, IReadOnlyDictionary<string, double> configured)
    {
        _defaultProbability = defaultProbability;
        _lowerBound = lowerBound;
        _configured = configured;

        // Past MaxOperations every unknown name shares one sampler: same probability, one shared lower bound.
        _overflow = new OperationSampler(defaultProbability, lowerBound);
    }

    public static PerOperationStrategy From(JsonElement operationSampling)
    {
        var defaultProbability = Math.Clamp(Number(operationSampling, "defaultSamplingProbability"), 0, 1);
        var lowerBound = Math.Max(0, Number(operationSampling, "defaultLowerBoundTracesPerSecond"));
        var configured = new Dictionary<string, double>(StringComparer.Ordinal);
        if (operationSampling.TryGetProperty("perOperationStrategies", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in list.EnumerateArray())
            {
                if (configured.Count < MaxOperations
                    && entry.TryGetProperty("operation", out var name) && name.ValueKind == JsonValueKind.String
                    && entry.TryGetProperty("probabilisticSampling", out var probabilistic))
                {
                    configured[name.GetString()!] = Math.Clamp(Number(probabilistic, "samplingRate"), 0, 1);
                }
            }
        }

        return new PerOperationStrategy(defaultProbability, lowerBound, configured);
    }

    public override SamplingResult ShouldSample(in SamplingParameters parameters)
    {
        var name = parameters.Name ?? string.Empty;
        if (!_operations.TryGetValue(name, out var sampler))
        {
            sampler = _operations.Count >= MaxOperations
                ? _overflow
                : _operations.GetOrAdd(name, n => new OperationSampler(_configured.TryGetValue(n, out var p) ? p : _defaultProbability, _lowerBound));
        }

        return sampler.ShouldSample(parameters);
    }

    public override string ToString() => $"per-operation(default {_defaultProbability}, lower bound {_lowerBound}/s, {_configured.Count} operations)";

    private sealed class OperationSampler(double probability, double lowerBound)
    {
        private readonly TraceIdRatioBasedSampler _ratio = new(probability);
        private readonly RateLimiter _lowerBoundLimiter = new(lowerBound, Math.Max(lowerBound, 1.0));
        private readonly SamplingResult _probabilistic = Sampled("probabilistic", probability);
        private readonly SamplingResult _guaranteed = Sampled("lowerbound", lowerBound);

        public SamplingResult ShouldSample(in SamplingParameters parameters)
        {
            if (_ratio.ShouldSample(parameters).Decision == SamplingDecision.RecordAndSample)
            {
                // A probabilistically sampled trace still spends lower-bound credit, as Jaeger's clients do, so the
                // guarantee adds traces only when probability alone falls short of it.
                _lowerBoundLimiter.TrySpend();
                return _probabilistic;
            }

            return lowerBound > 0 && _lowerBoundLimiter.TrySpend() ? _guaranteed : new SamplingResult(false);
        }
    }
}
