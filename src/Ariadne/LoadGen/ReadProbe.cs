using System.Diagnostics;
using System.Net;
using Ariadne.Model;
using HdrHistogram;

namespace Ariadne.LoadGen;

/// <summary>Latency of one kind of read during a run.</summary>
public sealed record ReadLatency(long Requests, long Failed, long NotFound, double P50Ms, double P90Ms, double P99Ms, double MaxMs);

/// <summary>What the read probe measured: trace by id and search, through the Jaeger query API, while the load ran.</summary>
public sealed record ReadProbeReport(ReadLatency TraceById, ReadLatency Search);

/// <summary>
/// Reads while the load runs, as a user at the UI would (<c>--query</c>): alternately a trace the server has just
/// acknowledged, by id (<c>GET /api/traces/{id}</c>), and a search of one service's last hour
/// (<c>GET /api/traces?service=…&amp;limit=20&amp;lookback=1h</c>), one read at a time at <c>--query-rate</c> reads per
/// second. A slow read delays the next one, so the rate may fall short under load; the latencies are what counts.
/// </summary>
internal sealed class ReadProbe(LoadGenOptions options) : IDisposable
{
    private const long HighestMicros = 60_000_000;

    private readonly HttpClient _http = CreateClient(options);
    private readonly Probe _byId = new();
    private readonly Probe _search = new();
    private readonly Lock _recentLock = new();
    private TraceId? _recent;

    /// <summary>A trace whose request the server acknowledged (called by the senders).</summary>
    public void Acknowledged(TraceId traceId)
    {
        lock (_recentLock)
        {
            _recent = traceId;
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        var interval = TimeSpan.FromSeconds(1 / options.QueryRate);
        var services = SyntheticTraces.Services;
        var clock = Stopwatch.StartNew();
        for (long read = 0; !stop.IsCancellationRequested; read++)
        {
            TraceId? recent;
            lock (_recentLock)
            {
                recent = _recent;
            }

            if (read % 2 == 0 && recent is { } traceId)
            {
                await _byId.MeasureAsync(_http, $"api/traces/{traceId.ToHex()}", stop);
            }
            else if (recent is not null)
            {
                await _search.MeasureAsync(_http, $"api/traces?service={services[read / 2 % services.Length]}&limit=20&lookback=1h", stop);
            }

            var due = TimeSpan.FromTicks(interval.Ticks * (read + 1)) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(due, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public ReadProbeReport Report() => new(_byId.Report(), _search.Report());

    public void Dispose() => _http.Dispose();

    private static HttpClient CreateClient(LoadGenOptions options)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 })
        {
            BaseAddress = new Uri(options.Query!.ToString().TrimEnd('/') + "/"),
            Timeout = TimeSpan.FromSeconds(60),
        };
        foreach (var (name, value) in options.RequestHeaders())
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        }

        return http;
    }

    private sealed class Probe
    {
        private readonly LongHistogram _latency = new(HighestMicros, 3);
        private long _failed;
        private long _notFound;

        public async Task MeasureAsync(HttpClient http, string path, CancellationToken stop)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead, stop);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    _notFound++;
                }
                else if (!response.IsSuccessStatusCode)
                {
                    _failed++;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return; // the run ended with this read in flight: not measured
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                _failed++;
            }

            _latency.RecordValue(Math.Min(HighestMicros, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds));
        }

        public ReadLatency Report()
        {
            var any = _latency.TotalCount > 0;
            double At(double percentile) => any ? _latency.GetValueAtPercentile(percentile) / 1000.0 : 0;
            return new ReadLatency(_latency.TotalCount, _failed, _notFound, At(50), At(90), At(99), any ? _latency.GetMaxValue() / 1000.0 : 0);
        }
    }
}
