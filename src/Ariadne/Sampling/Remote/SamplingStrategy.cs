using System.Text;
using System.Text.Json;
using Ariadne.GoCompat;

namespace Ariadne.Sampling.Remote;

/// <summary>Jaeger's api_v2 SamplingStrategyType; the numbers are the proto enum's.</summary>
public enum SamplingStrategyType
{
    Probabilistic = 0,
    RateLimiting = 1,
}

public sealed record OperationStrategy(string Operation, double SamplingRate);

/// <summary>Jaeger's PerOperationSamplingStrategies.</summary>
public sealed record PerOperationStrategies(
    double DefaultSamplingProbability,
    double DefaultLowerBoundTracesPerSecond,
    IReadOnlyList<OperationStrategy> Operations,
    double DefaultUpperBoundTracesPerSecond = 0);

/// <summary>
/// Jaeger's SamplingStrategyResponse: a service's head-sampling strategy. Exactly one of
/// <see cref="SamplingRate"/> / <see cref="MaxTracesPerSecond"/> goes with the type; per-operation strategies
/// may come with either.
/// </summary>
public sealed record SamplingStrategy(
    SamplingStrategyType Type,
    double? SamplingRate,
    int? MaxTracesPerSecond,
    PerOperationStrategies? OperationSampling)
{
    public static SamplingStrategy Probabilistic(double rate, PerOperationStrategies? operations = null) =>
        new(SamplingStrategyType.Probabilistic, rate, null, operations);

    public static SamplingStrategy RateLimiting(int maxTracesPerSecond, PerOperationStrategies? operations = null) =>
        new(SamplingStrategyType.RateLimiting, null, maxTracesPerSecond, operations);

    /// <summary>The probability this strategy gives an operation (the per-operation one, else the default).</summary>
    public double? ProbabilityFor(string operation)
    {
        if (OperationSampling is { } perOperation)
        {
            foreach (var op in perOperation.Operations)
            {
                if (string.Equals(op.Operation, operation, StringComparison.Ordinal))
                {
                    return op.SamplingRate;
                }
            }

            return perOperation.DefaultSamplingProbability;
        }

        return SamplingRate;
    }

    /// <summary>
    /// The JSON Jaeger serves on <c>/sampling</c>: gogo jsonpb with EmitDefaults (so <c>"strategyType":"PROBABILISTIC"</c>
    /// appears although it is the zero value, and every scalar of a present message is written), after which Jaeger
    /// deletes the null sub-messages (model/converter/json/sampling.go). Numbers are formatted as Go's encoding/json
    /// formats float64.
    /// </summary>
    public string ToJaegerJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("strategyType", Type == SamplingStrategyType.Probabilistic ? "PROBABILISTIC" : "RATE_LIMITING");
            if (SamplingRate is { } rate)
            {
                writer.WriteStartObject("probabilisticSampling");
                GoJson.WriteDouble(writer, "samplingRate", rate);
                writer.WriteEndObject();
            }

            if (MaxTracesPerSecond is { } maxTraces)
            {
                writer.WriteStartObject("rateLimitingSampling");
                writer.WriteNumber("maxTracesPerSecond", maxTraces);
                writer.WriteEndObject();
            }

            if (OperationSampling is { } perOperation)
            {
                writer.WriteStartObject("operationSampling");
                GoJson.WriteDouble(writer, "defaultSamplingProbability", perOperation.DefaultSamplingProbability);
                GoJson.WriteDouble(writer, "defaultLowerBoundTracesPerSecond", perOperation.DefaultLowerBoundTracesPerSecond);
                writer.WriteStartArray("perOperationStrategies");
                foreach (var op in perOperation.Operations)
                {
                    writer.WriteStartObject();
                    writer.WriteString("operation", op.Operation);
                    writer.WriteStartObject("probabilisticSampling");
                    GoJson.WriteDouble(writer, "samplingRate", op.SamplingRate);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                GoJson.WriteDouble(writer, "defaultUpperBoundTracesPerSecond", perOperation.DefaultUpperBoundTracesPerSecond);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
