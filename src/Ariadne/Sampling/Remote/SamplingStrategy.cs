using System.Globalization;
using System.Text;
using System.Text.Json;

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
                WriteGoFloat(writer, "samplingRate", rate);
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
                WriteGoFloat(writer, "defaultSamplingProbability", perOperation.DefaultSamplingProbability);
                WriteGoFloat(writer, "defaultLowerBoundTracesPerSecond", perOperation.DefaultLowerBoundTracesPerSecond);
                writer.WriteStartArray("perOperationStrategies");
                foreach (var op in perOperation.Operations)
                {
                    writer.WriteStartObject();
                    writer.WriteString("operation", op.Operation);
                    writer.WriteStartObject("probabilisticSampling");
                    WriteGoFloat(writer, "samplingRate", op.SamplingRate);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                WriteGoFloat(writer, "defaultUpperBoundTracesPerSecond", perOperation.DefaultUpperBoundTracesPerSecond);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteGoFloat(Utf8JsonWriter writer, string name, double value)
    {
        writer.WritePropertyName(name);
        writer.WriteRawValue(FormatGoFloat(value), skipInputValidation: true);
    }

    /// <summary>
    /// Go's encoding/json float64 text: shortest round-trip digits, plain notation unless the magnitude is
    /// below 1e-6 or at least 1e21, where it is exponent notation with at least one exponent digit (1e-7, 1e+21).
    /// </summary>
    internal static string FormatGoFloat(double value)
    {
        if (value == 0)
        {
            return "0";
        }

        // "E16" is not shortest; "R" is, and we only need to move its decimal point.
        var shortest = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = shortest.StartsWith('-');
        var text = negative ? shortest[1..] : shortest;
        var exponentAt = text.IndexOfAny(['E', 'e']);
        var mantissa = exponentAt < 0 ? text : text[..exponentAt];
        var exponent = exponentAt < 0 ? 0 : int.Parse(text[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var point = mantissa.IndexOf('.');
        var digits = point < 0 ? mantissa : mantissa.Remove(point, 1);
        var pointPosition = (point < 0 ? mantissa.Length : point) + exponent;
        var leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        pointPosition -= leadingZeros;
        if (digits.Length == 0)
        {
            return "0";
        }

        var abs = Math.Abs(value);
        var builder = new StringBuilder(negative ? "-" : string.Empty);
        if (abs < 1e-6 || abs >= 1e21)
        {
            builder.Append(digits[0]);
            if (digits.Length > 1)
            {
                builder.Append('.').Append(digits, 1, digits.Length - 1);
            }

            // Go writes e-07 and then strips the padding zero (e-7); exponents of 21 and more need no padding.
            var e = pointPosition - 1;
            builder.Append('e').Append(e < 0 ? '-' : '+').Append(Math.Abs(e).ToString(CultureInfo.InvariantCulture));
            return builder.ToString();
        }

        if (pointPosition <= 0)
        {
            builder.Append("0.").Append('0', -pointPosition).Append(digits);
        }
        else if (pointPosition >= digits.Length)
        {
            builder.Append(digits).Append('0', pointPosition - digits.Length);
        }
        else
        {
            builder.Append(digits, 0, pointPosition).Append('.').Append(digits, pointPosition, digits.Length - pointPosition);
        }

        return builder.ToString();
    }
}
