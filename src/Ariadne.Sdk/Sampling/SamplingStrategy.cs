using System.Globalization;
using System.Text.Json;
using OpenTelemetry.Trace;

namespace Ariadne.Instrumentation.Sampling;

/// <summary>
/// One decision rule built from a Jaeger sampling strategy response. Immutable: the remote sampler swaps a whole
/// new instance in when the server's answer changes, so decisions never see half an update.
/// </summary>
internal abstract class SamplingStrategy
{
    /// <summary>Jaeger's clients cap the per-operation table so a service with unbounded span names cannot grow it.</summary>
    internal const int MaxOperations = 2000;

    public abstract SamplingResult ShouldSample(in SamplingParameters parameters);

    public static SamplingStrategy Probabilistic(double rate) => new ProbabilisticStrategy(rate);

    /// <summary>
    /// Parses the JSON that Jaeger's <c>GET /sampling?service=</c> returns (agent port 5778, collector 14268):
    /// <c>strategyType</c> (name or number), <c>probabilisticSampling.samplingRate</c>,
    /// <c>rateLimitingSampling.maxTracesPerSecond</c>, and <c>operationSampling</c> which, when present, wins.
    /// </summary>
    public static SamplingStrategy Parse(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("a sampling strategy must be a JSON object");
        }

        if (root.TryGetProperty("operationSampling", out var operations) && operations.ValueKind == JsonValueKind.Object)
        {
            return PerOperationStrategy.From(operations);
        }

        var type = root.TryGetProperty("strategyType", out var t) ? t : default;
        var isRateLimiting = type.ValueKind switch
        {
            JsonValueKind.String => string.Equals(type.GetString(), "RATE_LIMITING", StringComparison.OrdinalIgnoreCase),
            JsonValueKind.Number => type.GetInt32() == 1,
            _ => false,
        };
        if (isRateLimiting && root.TryGetProperty("rateLimitingSampling", out var rateLimiting))
        {
            return new RateLimitingStrategy(Number(rateLimiting, "maxTracesPerSecond"));
        }

        if (root.TryGetProperty("probabilisticSampling", out var probabilistic))
        {
            return new ProbabilisticStrategy(Number(probabilistic, "samplingRate"));
        }

        throw new FormatException("the sampling strategy has neither probabilisticSampling, rateLimitingSampling nor operationSampling");
    }

    internal static double Number(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : 0;

    internal static SamplingResult Sampled(string type, double param) =>
        new(SamplingDecision.RecordAndSample, [new("sampler.type", type), new("sampler.param", param)]);

    private sealed class ProbabilisticStrategy : SamplingStrategy
    {
        private readonly TraceIdRatioBasedSampler _ratio;
        private readonly double _rate;
        private readonly SamplingResult _sampled;

        public ProbabilisticStrategy(double rate)
        {
            _rate = Math.Clamp(double.IsNaN(rate) ? 0 : rate, 0, 1);
            _ratio = new TraceIdRatioBasedSampler(_rate);
            _sampled = Sampled("probabilistic", _rate);
        }

        public override SamplingResult ShouldSample(in SamplingParameters parameters) =>
            _ratio.ShouldSample(parameters).Decision == SamplingDecision.RecordAndSample ? _sampled : new SamplingResult(false);

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"probabilistic({_rate})");
    }

    private sealed class RateLimitingStrategy(double maxTracesPerSecond) : SamplingStrategy
    {
        private readonly RateLimiter _limiter = new(maxTracesPerSecond, Math.Max(maxTracesPerSecond, 1.0));
        private readonly SamplingResult _sampled = Sampled("ratelimiting", maxTracesPerSecond);

        public override SamplingResult ShouldSample(in SamplingParameters parameters) =>
            maxTracesPerSecond > 0 && _limiter.TrySpend() ? _sampled : new SamplingResult(false);

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ratelimiting({maxTracesPerSecond}/s)");
    }
}
