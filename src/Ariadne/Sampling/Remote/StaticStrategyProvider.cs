namespace Ariadne.Sampling.Remote;

/// <summary>What the remote sampling endpoint serves: static strategies, or adaptive ones.</summary>
public interface ISamplingStrategyProvider
{
    /// <summary>The strategy for a tenant's service; tenants running services of the same name get their own.</summary>
    SamplingStrategy GetStrategy(string tenant, string service);
}

/// <summary>
/// Strategies from Jaeger's strategies file, re-read when its content changes. A change that does not parse is
/// logged with every bad entry and the previous strategies stay in force, so a typo never turns sampling off.
/// </summary>
public sealed class StaticStrategyProvider : ISamplingStrategyProvider, IDisposable
{
    private readonly SamplingOptions _options;
    private readonly ILogger<StaticStrategyProvider> _logger;
    private readonly ITimer? _timer;
    private readonly Lock _reloadLock = new();
    private volatile StrategiesFile _strategies;
    private string? _lastText;

    public StaticStrategyProvider(SamplingOptions options, TimeProvider timeProvider, ILogger<StaticStrategyProvider> logger)
    {
        _options = options;
        _logger = logger;
        _strategies = StrategiesFile.Defaults(options.DefaultSamplingProbability);
        if (options.StrategiesFile is { } path)
        {
            // Validated at start-up (SamplingOptionsValidator), so a failure here is a file changed since.
            Reload();
            _timer = timeProvider.CreateTimer(_ => Reload(), null, options.StrategiesReloadInterval, options.StrategiesReloadInterval);
            _logger.LogInformation("Serving sampling strategies from {File}, checked for changes every {Interval}", path, options.StrategiesReloadInterval);
        }
    }

    public StrategiesFile Strategies => _strategies;

    /// <summary>The strategies file is the operator's, one for every tenant.</summary>
    public SamplingStrategy GetStrategy(string tenant, string service) => _strategies.For(service);

    public void Reload()
    {
        lock (_reloadLock)
        {
            string text;
            try
            {
                text = File.ReadAllText(_options.StrategiesFile!);
            }
            catch (IOException e)
            {
                _logger.LogError("Cannot read the sampling strategies file {File}: {Message}; keeping the strategies loaded before.", _options.StrategiesFile, e.Message);
                return;
            }

            if (text == _lastText)
            {
                return;
            }

            var errors = new List<string>();
            var parsed = StrategiesFile.Parse(text, _options.DefaultSamplingProbability, errors);
            _lastText = text;
            if (parsed is null)
            {
                _logger.LogError(
                    "The sampling strategies file {File} has errors; keeping the strategies loaded before. Fix: {Errors}",
                    _options.StrategiesFile,
                    string.Join("; ", errors));
                return;
            }

            _strategies = parsed;
            _logger.LogInformation("Loaded sampling strategies for {Count} services from {File}", parsed.Services.Count, _options.StrategiesFile);
        }
    }

    public void Dispose() => _timer?.Dispose();
}
