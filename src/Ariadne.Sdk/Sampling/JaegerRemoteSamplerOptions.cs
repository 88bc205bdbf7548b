using System.Globalization;

namespace Ariadne.Instrumentation.Sampling;

/// <summary>Where and how often the remote sampler asks for its strategy, and what it does until it has one.</summary>
public sealed class JaegerRemoteSamplerOptions
{
    /// <summary>Base address of the sampling endpoint; the sampler calls <c>{Endpoint}/sampling?service=NAME</c>.</summary>
    public Uri Endpoint { get; set; } = new("http://localhost:5778");

    public TimeSpan PollingInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Probability used before the first answer and whenever the endpoint cannot be reached or answers nonsense
    /// (0.001, as the OpenTelemetry specification's <c>jaeger_remote</c> sampler).
    /// </summary>
    public double InitialSamplingRate { get; set; } = 0.001;

    /// <summary>
    /// Reads the <c>OTEL_TRACES_SAMPLER_ARG</c> form the OpenTelemetry specification defines for
    /// <c>jaeger_remote</c>: <c>endpoint=http://localhost:5778,pollingIntervalMs=5000,initialSamplingRate=0.25</c>.
    /// Unknown keys are ignored; a malformed value throws with the key named.
    /// </summary>
    public static JaegerRemoteSamplerOptions FromSamplerArgument(string? argument)
    {
        var options = new JaegerRemoteSamplerOptions();
        foreach (var pair in (argument ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = pair.IndexOf('=', StringComparison.Ordinal);
            if (separator <= 0)
            {
                continue;
            }

            var key = pair[..separator].Trim();
            var value = pair[(separator + 1)..].Trim();
            switch (key)
            {
                case "endpoint":
                    options.Endpoint = Uri.TryCreate(value, UriKind.Absolute, out var endpoint)
                        ? endpoint
                        : throw new FormatException($"OTEL_TRACES_SAMPLER_ARG: endpoint '{value}' is not an absolute URL such as http://localhost:5778");
                    break;
                case "pollingIntervalMs":
                    options.PollingInterval = TimeSpan.FromMilliseconds(ParseNumber(key, value));
                    break;
                case "initialSamplingRate":
                    options.InitialSamplingRate = ParseNumber(key, value);
                    break;
            }
        }

        return options;
    }

    private static double ParseNumber(string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0
            ? number
            : throw new FormatException($"OTEL_TRACES_SAMPLER_ARG: {key} '{value}' must be a non-negative number");
}
