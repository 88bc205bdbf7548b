using System.Globalization;
using System.Text.Json;

namespace Ariadne.Sampling.Remote;

/// <summary>
/// Jaeger's sampling strategies file (<c>default_strategy</c>, <c>service_strategies</c>, <c>operation_strategies</c>,
/// each with <c>type</c> probabilistic|ratelimiting and <c>param</c>), turned into the strategies Jaeger would serve
/// (internal/sampling/samplingstrategy/file/provider.go): a service without per-operation strategies inherits the
/// default's, with its own probability as their default; a service with its own has the default's merged in after them.
/// Unlike Jaeger, which logs and falls back, every mistake is an error naming the entry.
/// </summary>
public sealed class StrategiesFile
{
    private StrategiesFile(SamplingStrategy defaultStrategy, IReadOnlyDictionary<string, SamplingStrategy> services)
    {
        Default = defaultStrategy;
        Services = services;
    }

    public SamplingStrategy Default { get; }

    public IReadOnlyDictionary<string, SamplingStrategy> Services { get; }

    public SamplingStrategy For(string service) => Services.TryGetValue(service, out var strategy) ? strategy : Default;

    /// <summary>The strategies served when there is no file: every service probabilistic at the default probability.</summary>
    public static StrategiesFile Defaults(double defaultProbability) =>
        new(SamplingStrategy.Probabilistic(defaultProbability), new Dictionary<string, SamplingStrategy>(StringComparer.Ordinal));

    /// <summary>Parses the file's text. <paramref name="errors"/> collects every problem, each naming its entry.</summary>
    public static StrategiesFile? Parse(string json, double defaultProbability, List<string> errors)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            errors.Add($"not valid JSON: {e.Message}");
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                errors.Add("the file must hold a JSON object with default_strategy and/or service_strategies.");
                return null;
            }

            var errorCount = errors.Count;
            ParsedService? defaultEntry = null;
            var services = new List<ParsedService>();
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "default_strategy":
                        if (property.Value.ValueKind != JsonValueKind.Null)
                        {
                            defaultEntry = ParseService(property.Value, "default_strategy", isDefault: true, errors);
                        }

                        break;
                    case "service_strategies":
                        if (property.Value.ValueKind == JsonValueKind.Array)
                        {
                            var index = 0;
                            foreach (var element in property.Value.EnumerateArray())
                            {
                                var parsed = ParseService(element, $"service_strategies[{index++}]", isDefault: false, errors);
                                if (parsed is not null)
                                {
                                    services.Add(parsed);
                                }
                            }
                        }
                        else if (property.Value.ValueKind != JsonValueKind.Null)
                        {
                            errors.Add("service_strategies: must be an array of {\"service\", \"type\", \"param\", \"operation_strategies\"} objects.");
                        }

                        break;
                    default:
                        errors.Add($"'{property.Name}': unknown key; the file has default_strategy and service_strategies.");
                        break;
                }
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var service in services)
            {
                if (!seen.Add(service.Service))
                {
                    errors.Add($"{service.Path}: the service is listed twice; merge the entries.");
                }
            }

            if (errors.Count > errorCount)
            {
                return null;
            }

            var defaultStrategy = defaultEntry is null ? SamplingStrategy.Probabilistic(defaultProbability) : defaultEntry.ToStrategy(defaultProbability);
            var table = new Dictionary<string, SamplingStrategy>(StringComparer.Ordinal);
            foreach (var service in services)
            {
                var strategy = service.ToStrategy(defaultProbability);
                if (defaultStrategy.OperationSampling is { } inherited)
                {
                    strategy = strategy.OperationSampling is { } own
                        ? strategy with { OperationSampling = own with { Operations = Merge(own.Operations, inherited.Operations) } }
                        : strategy with
                        {
                            OperationSampling = inherited with
                            {
                                DefaultSamplingProbability = strategy.SamplingRate ?? inherited.DefaultSamplingProbability,
                            },
                        };
                }

                table[service.Service] = strategy;
            }

            return new StrategiesFile(defaultStrategy, table);
        }
    }

    private static List<OperationStrategy> Merge(IReadOnlyList<OperationStrategy> first, IReadOnlyList<OperationStrategy> then)
    {
        var merged = new List<OperationStrategy>(first);
        foreach (var op in then)
        {
            if (!first.Any(o => string.Equals(o.Operation, op.Operation, StringComparison.Ordinal)))
            {
                merged.Add(op);
            }
        }

        return merged;
    }

    private static ParsedService? ParseService(JsonElement element, string path, bool isDefault, List<string> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}: must be an object with \"type\" and \"param\".");
            return null;
        }

        string? service = null;
        string? type = null;
        double? param = null;
        var operations = new List<OperationStrategy>();
        var errorCount = errors.Count;
        if (!isDefault)
        {
            if (element.TryGetProperty("service", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() is { Length: > 0 } s)
            {
                service = s;
                path = $"{path} (service '{s}')";
            }
            else
            {
                errors.Add($"{path}: \"service\" must name the service (a non-empty string).");
            }
        }

        foreach (var property in element.EnumerateObject())
        {
            switch (property.Name)
            {
                case "service" when !isDefault:
                    break;
                case "type":
                    type = ReadType(property.Value, path, errors);
                    break;
                case "param":
                    param = ReadParam(property.Value, path, errors);
                    break;
                case "operation_strategies":
                    if (property.Value.ValueKind == JsonValueKind.Array)
                    {
                        var index = 0;
                        foreach (var op in property.Value.EnumerateArray())
                        {
                            var parsed = ParseOperation(op, $"{path}: operation_strategies[{index++}]", errors);
                            if (parsed is not null)
                            {
                                operations.Add(parsed);
                            }
                        }
                    }
                    else if (property.Value.ValueKind != JsonValueKind.Null)
                    {
                        errors.Add($"{path}: operation_strategies must be an array of {{\"operation\", \"type\", \"param\"}} objects.");
                    }

                    break;
                default:
                    errors.Add($"{path}: '{property.Name}' is not a key of a strategy; use {(isDefault ? string.Empty : "service, ")}type, param and operation_strategies.");
                    break;
            }
        }

        if (type is null && errors.Count == errorCount)
        {
            errors.Add($"{path}: \"type\" is missing; use \"probabilistic\" or \"ratelimiting\".");
        }

        if (param is null && errors.Count == errorCount)
        {
            errors.Add($"{path}: \"param\" is missing (the probability, or the traces per second for ratelimiting).");
        }

        if (errors.Count > errorCount)
        {
            return null;
        }

        CheckParam(type!, param!.Value, path, errors);
        return errors.Count > errorCount ? null : new ParsedService(path, service ?? string.Empty, type!, param.Value, operations);
    }

    private static OperationStrategy? ParseOperation(JsonElement element, string path, List<string> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}: must be an object with \"operation\", \"type\" and \"param\".");
            return null;
        }

        var errorCount = errors.Count;
        string? operation = null;
        if (element.TryGetProperty("operation", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() is { Length: > 0 } s)
        {
            operation = s;
            path = $"{path} (operation '{s}')";
        }
        else
        {
            errors.Add($"{path}: \"operation\" must name the operation (a non-empty string).");
        }

        string? type = null;
        double? param = null;
        foreach (var property in element.EnumerateObject())
        {
            switch (property.Name)
            {
                case "operation":
                    break;
                case "type":
                    type = ReadType(property.Value, path, errors);
                    break;
                case "param":
                    param = ReadParam(property.Value, path, errors);
                    break;
                default:
                    errors.Add($"{path}: '{property.Name}' is not a key of an operation strategy; use operation, type and param.");
                    break;
            }
        }

        if (errors.Count > errorCount)
        {
            return null;
        }

        if (type is null || param is null)
        {
            errors.Add($"{path}: needs \"type\": \"probabilistic\" and \"param\" (the probability).");
            return null;
        }

        // Jaeger's OperationSamplingStrategy has only a probabilistic form; Jaeger drops ratelimiting entries with a warning.
        if (type != "probabilistic")
        {
            errors.Add($"{path}: operations can only be sampled probabilistically (Jaeger's per-operation strategies have no rate limit); use \"type\": \"probabilistic\".");
            return null;
        }

        CheckParam(type, param.Value, path, errors);
        return errors.Count > errorCount ? null : new OperationStrategy(operation!, param.Value);
    }

    private static string? ReadType(JsonElement value, string path, List<string> errors)
    {
        if (value.ValueKind == JsonValueKind.String && value.GetString() is "probabilistic" or "ratelimiting")
        {
            return value.GetString();
        }

        errors.Add($"{path}: type {value.GetRawText()} is not a strategy type; use \"probabilistic\" or \"ratelimiting\".");
        return null;
    }

    private static double? ReadParam(JsonElement value, string path, List<string> errors)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number))
        {
            return number;
        }

        errors.Add($"{path}: param {value.GetRawText()} is not a number.");
        return null;
    }

    private static void CheckParam(string type, double param, string path, List<string> errors)
    {
        if (type == "probabilistic" && param is < 0 or > 1 or double.NaN)
        {
            errors.Add($"{path}: param {param.ToString(CultureInfo.InvariantCulture)} is not a probability; use 0 to 1 (0.01 samples 1%).");
        }
        else if (type == "ratelimiting" && (param < 0 || param > int.MaxValue || double.IsNaN(param)))
        {
            errors.Add($"{path}: param {param.ToString(CultureInfo.InvariantCulture)} is not a rate; use traces per second from 0 to {int.MaxValue}.");
        }
    }

    private sealed record ParsedService(string Path, string Service, string Type, double Param, List<OperationStrategy> Operations)
    {
        public SamplingStrategy ToStrategy(double defaultProbability)
        {
            var strategy = Type == "probabilistic"
                ? SamplingStrategy.Probabilistic(Param)
                : SamplingStrategy.RateLimiting((int)Param);
            if (Operations.Count == 0)
            {
                return strategy;
            }

            var operationDefault = strategy.SamplingRate ?? defaultProbability;
            return strategy with { OperationSampling = new PerOperationStrategies(operationDefault, 0, Operations) };
        }
    }
}
