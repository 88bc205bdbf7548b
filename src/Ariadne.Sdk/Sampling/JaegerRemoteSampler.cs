using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Ariadne.Instrumentation.Sampling;

/// <summary>
/// A root sampler that follows the strategy Ariadne (or Jaeger) serves for this service on its remote sampling
/// endpoint: probabilistic, rate limiting, or per operation with a lower bound. Wrap it in a
/// <see cref="ParentBasedSampler"/> (as <c>AddAriadneTracing</c> does) so a trace is sampled once, at its root.
/// </summary>
/// <remarks>
/// Never throws into the application: until the first answer, and while the endpoint is unreachable or answers
/// something unparseable, it keeps the last good strategy (or the initial probability).
/// </remarks>
public sealed class JaegerRemoteSampler : Sampler, IDisposable
{
    private readonly string _serviceName;
    private readonly JaegerRemoteSamplerOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _polling;
    private volatile SamplingStrategy _strategy;
    private string? _lastResponse;
    private bool _failing;
    private int _polls;

    public JaegerRemoteSampler(string serviceName, JaegerRemoteSamplerOptions? options = null, HttpClient? http = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        _serviceName = serviceName;
        _options = options ?? new JaegerRemoteSamplerOptions();
        _ownsHttp = http is null;
        _http = http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        _logger = logger ?? NullLogger.Instance;
        _strategy = SamplingStrategy.Probabilistic(_options.InitialSamplingRate);
        Description = $"JaegerRemoteSampler{{{_options.Endpoint}}}";
        _polling = Task.Run(PollAsync);
    }

    /// <summary>Completed polls, successful or not; lets tests and health checks wait for the first answer.</summary>
    public int Polls => Volatile.Read(ref _polls);

    /// <summary>The strategy in force, for diagnostics.</summary>
    public string CurrentStrategy => _strategy.ToString() ?? string.Empty;

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        _strategy.ShouldSample(samplingParameters);

    /// <summary>Asks the endpoint once now; the background loop keeps doing this every polling interval.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        var uri = new Uri(_options.Endpoint, $"sampling?service={Uri.EscapeDataString(_serviceName)}");
        try
        {
            // The sampler's own HTTP calls must not become spans (they would be sampled by this very sampler).
            using var suppress = SuppressInstrumentationScope.Begin();
            using var response = await _http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            var text = System.Text.Encoding.UTF8.GetString(body);
            if (text != _lastResponse)
            {
                _strategy = SamplingStrategy.Parse(body);
                _lastResponse = text;
                _logger.LogInformation("Sampling strategy for {Service} from {Endpoint}: {Strategy}", _serviceName, _options.Endpoint, _strategy);
            }

            _failing = false;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            if (!_failing)
            {
                _logger.LogWarning(
                    "Cannot get the sampling strategy for {Service} from {Uri} ({Error}); keeping {Strategy}. Check that Ariadne's sampling port is reachable.",
                    _serviceName, uri, e.Message, _strategy);
                _failing = true;
            }
        }
        finally
        {
            Interlocked.Increment(ref _polls);
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        try
        {
            _polling.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends by cancellation; nothing to report at shutdown.
        }

        _stopping.Dispose();
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task PollAsync()
    {
        using var timer = new PeriodicTimer(_options.PollingInterval > TimeSpan.Zero ? _options.PollingInterval : TimeSpan.FromMinutes(1));
        try
        {
            do
            {
                await RefreshAsync(_stopping.Token).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }
}
