using System.Globalization;
using Ariadne.Model;

namespace Ariadne.Sampling.Adaptive;

/// <summary>
/// The probability with which an SDK sampled a root span, where the span says so: Jaeger SDKs tag root spans with
/// <c>sampler.type</c>/<c>sampler.param</c>; OpenTelemetry's consistent-probability samplers write the rejection
/// threshold into the W3C tracestate (<c>ot=th:T</c>, T = 1-14 hex digits of a 56-bit threshold, p = 1 - T/2^56),
/// older ones a power-of-two exponent (<c>ot=p:N</c>, p = 2^-N).
/// </summary>
public static class HeadSamplingProbability
{
    public const string SamplerTypeKey = "sampler.type";
    public const string SamplerParamKey = "sampler.param";

    private const double TwoTo56 = 72057594037927936.0;

    /// <summary>The probability, or null when the span does not tell (or the sampler was not probabilistic).</summary>
    public static double? Read(Span span)
    {
        string? type = null;
        double? param = null;
        foreach (var attribute in span.Attributes)
        {
            if (attribute.Key == SamplerTypeKey && attribute.Value.Type == AnyValueType.String)
            {
                type = attribute.Value.AsString;
            }
            else if (attribute.Key == SamplerParamKey)
            {
                param = attribute.Value.Type switch
                {
                    AnyValueType.Double => attribute.Value.AsDouble,
                    AnyValueType.Int => attribute.Value.AsInt,
                    AnyValueType.Bool => attribute.Value.AsBool ? 1 : 0,
                    AnyValueType.String when double.TryParse(attribute.Value.AsString, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
                    _ => null,
                };
            }
        }

        if (type is not null && param is { } p)
        {
            switch (type)
            {
                // lowerbound spans were sampled by the guaranteed-throughput fallback; their param is still the probabilistic rate.
                case "probabilistic" or "lowerbound" when p is > 0 and <= 1:
                    return p;
                case "const":
                    return p != 0 ? 1 : null;
            }
        }

        return span.TraceState.Length == 0 ? null : FromTraceState(span.TraceState);
    }

    /// <summary>The probability in an <c>ot</c> tracestate entry (th: or p:), or null.</summary>
    public static double? FromTraceState(ReadOnlySpan<char> traceState)
    {
        foreach (var memberRange in traceState.Split(','))
        {
            var member = traceState[memberRange].Trim();
            if (!member.StartsWith("ot="))
            {
                continue;
            }

            var value = member[3..];
            foreach (var fieldRange in value.Split(';'))
            {
                var field = value[fieldRange];
                if (field.StartsWith("th:"))
                {
                    var hex = field[3..];
                    if (hex.Length is 0 or > 14 || !ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var threshold))
                    {
                        return null;
                    }

                    // Trailing zeros are omitted on the wire: th:8 is 0x80000000000000.
                    threshold <<= 4 * (14 - hex.Length);
                    var probability = 1 - (threshold / TwoTo56);
                    return probability > 0 ? probability : null;
                }

                if (field.StartsWith("p:") && int.TryParse(field[2..], NumberStyles.None, CultureInfo.InvariantCulture, out var exponent) && exponent is >= 0 and < 63)
                {
                    return Math.Pow(2, -exponent);
                }
            }
        }

        return null;
    }
}
