using System.Collections.Concurrent;
using System.Diagnostics;
using Ariadne.Model;
using HdrHistogram;

namespace Ariadne.LoadGen;

public enum LoadGenProtocol
{
    Grpc,
    Http,
}

/// <summary>What `ariadne loadgen` was asked to do.</summary>
public sealed record LoadGenOptions
{
    public required Uri Target { get; init; }

    public LoadGenProtocol Protocol { get; init; } = LoadGenProtocol.Grpc;

    /// <summary>Spans per second to offer; 0 sends as fast as the connections allow.</summary>
    public double Rate { get; init; }

    /// <summary>Connections, each with one request in flight.</summary>
    public int Connections { get; init; } = 4;

    /// <summary>How long to send; null runs until <see cref="TotalSpans"/> are sent or the run is cancelled.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Stop once this many spans are sent (the last requests may take it a little past).</summary>
    public long? TotalSpans { get; init; }

    /// <summary>Spans per request; whole traces are packed until a request holds at least this many.</summary>
    public int SpansPerRequest { get; init; } = 500;

    public string? Tenant { get; init; }

    /// <summary>Bearer token for a server with <c>Auth:Tokens</c> configured (a token with the ingest scope).</summary>
    public string? Token { get; init; }

    /// <summary>The headers every request carries: the tenant and the bearer token, where given.</summary>
    public IEnumerable<(string Name, string Value)> RequestHeaders()
    {
        if (Tenant is not null)
        {
            yield return ("x-tenant", Tenant);
        }

        if (Token is not null)
        {
            yield return ("authorization", "Bearer " + Token);
        }
    }

    /// <summary>Distinct pre-encoded requests cycled through; each send stamps fresh trace ids and times into a copy.</summary>
    public int Payloads { get; init; } = 32;

    public int Seed { get; init; } = 1;

    /// <summary>The Jaeger query API to read from while the load runs (<see cref="ReadProbe"/>); null reads nothing.</summary>
    public Uri? Query { get; init; }

    /// <summary>Reads per second of the read probe, trace by id and search alternately.</summary>
    public double QueryRate { get; init; } = 10;

    /// <summary>
    /// A file to which each trace of a fully accepted request is appended as it is acknowledged: trace id (hex), span
    /// count, customer tier. Crash tests read it to check that the server lost nothing it acknowledged.
    /// </summary>
    public string? AcknowledgedFile { get; init; }
}

/// <summary>Counters as the run goes, for the progress line.</summary>
public readonly record struct LoadGenProgress(TimeSpan Elapsed, long SpansSent, long SpansAccepted, long FailedRequests, double SpansPerSecond);

/// <summary>The result of a run, printed as a table or as JSON.</summary>
public sealed record LoadGenReport
{
    public required TimeSpan Elapsed { get; init; }

    public required long Requests { get; init; }

    public required long FailedRequests { get; init; }

    public required long SpansSent { get; init; }

    public required long SpansAccepted { get; init; }

    public required long SpansRejected { get; init; }

    /// <summary>Accepted spans per second over the whole run.</summary>
    public double SpansPerSecond => Elapsed > TimeSpan.Zero ? SpansAccepted / Elapsed.TotalSeconds : 0;

    public required double LatencyP50Ms { get; init; }

    public required double LatencyP90Ms { get; init; }

    public required double LatencyP99Ms { get; init; }

    public required double LatencyMaxMs { get; init; }

    public required IReadOnlyDictionary<string, long> Errors { get; init; }

    /// <summary>CPU time the load generator's own process used while sending (all threads).</summary>
    public required TimeSpan GeneratorCpu { get; init; }

    /// <summary>The generator's CPU cost per span sent, in microseconds: what the server does not have to share.</summary>
    public double GeneratorCpuMicrosPerSpan => SpansSent > 0 ? GeneratorCpu.TotalMicroseconds / SpansSent : 0;

    /// <summary>Read latencies while the load ran, when <see cref="LoadGenOptions.Query"/> was given.</summary>
    public ReadProbeReport? Reads { get; init; }
}

/// <summary>
/// Drives the load: pre-encodes a pool of OTLP requests once, then has each connection stamp fresh ids and times
/// into its own copy of the next request and send it, paced to the target rate. The per-span cost on the sending
/// side is a memory copy and a few byte writes, so the server, not the generator, is what a run measures.
/// </summary>
public sealed class LoadGenerator(LoadGenOptions options) : IDisposable
{
    private const long HighestLatencyMicros = 60_000_000;

    private static readonly TimeSpan s_failureBackoff = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _requests;
    private long _failedRequests;
    private long _spansSent;
    private long _spansAccepted;
    private long _spansRejected;
    private long _spansClaimed;
    private readonly ReadProbe? _probe = options.Query is null ? null : new ReadProbe(options);

    public void Dispose() => _probe?.Dispose();

    public async Task<LoadGenReport> RunAsync(Action<LoadGenProgress>? progress, CancellationToken cancellationToken)
    {
        var payloads = Prepare(options, DateTimeOffset.UtcNow);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.Duration is { } duration)
        {
            stop.CancelAfter(duration);
        }

        var runSalt = (ulong)Random.Shared.NextInt64(1, long.MaxValue);
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var startUnixNano = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        await using var acknowledged = options.AcknowledgedFile is { } path ? new AcknowledgedTraces(path) : null;
        var histograms = new LongHistogram[options.Connections];
        var workers = new Task[options.Connections];
        for (var i = 0; i < workers.Length; i++)
        {
            histograms[i] = new LongHistogram(HighestLatencyMicros, 3);
            workers[i] = RunWorkerAsync(i, payloads, histograms[i], runSalt, clock, startUnixNano, acknowledged, stop.Token, cancellationToken);
        }

        var all = Task.WhenAll(workers);
        var reads = _probe?.RunAsync(stop.Token) ?? Task.CompletedTask;
        if (progress is not null)
        {
            await ReportProgressAsync(all, clock, progress);
        }

        await all;
        clock.Stop();
        await reads;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart;

        var latency = new LongHistogram(HighestLatencyMicros, 3);
        foreach (var histogram in histograms)
        {
            latency.Add(histogram);
        }

        var hasLatency = latency.TotalCount > 0;
        return new LoadGenReport
        {
            Elapsed = clock.Elapsed,
            Requests = _requests,
            FailedRequests = _failedRequests,
            SpansSent = _spansSent,
            SpansAccepted = _spansAccepted,
            SpansRejected = _spansRejected,
            LatencyP50Ms = hasLatency ? latency.GetValueAtPercentile(50) / 1000.0 : 0,
            LatencyP90Ms = hasLatency ? latency.GetValueAtPercentile(90) / 1000.0 : 0,
            LatencyP99Ms = hasLatency ? latency.GetValueAtPercentile(99) / 1000.0 : 0,
            LatencyMaxMs = hasLatency ? latency.GetMaxValue() / 1000.0 : 0,
            Errors = _errors.ToDictionary(StringComparer.Ordinal),
            GeneratorCpu = cpu,
            Reads = _probe?.Report(),
        };
    }

    /// <summary>The request pool: synthetic traces packed into requests of at least <see cref="LoadGenOptions.SpansPerRequest"/> spans.</summary>
    internal static OtlpPayload[] Prepare(LoadGenOptions options, DateTimeOffset now)
    {
        var baseTime = (now - DateTimeOffset.UnixEpoch).Ticks * 100;
        var traces = new SyntheticTraces(options.Seed, baseTime);
        var writer = new ProtobufWriter();
        var payloads = new OtlpPayload[options.Payloads];
        var batch = new List<IReadOnlyList<Span>>();
        for (var i = 0; i < payloads.Length; i++)
        {
            batch.Clear();
            var spans = 0;
            while (spans < options.SpansPerRequest)
            {
                var trace = traces.Next();
                batch.Add(trace);
                spans += trace.Count;
            }

            payloads[i] = OtlpPayload.Encode(batch, baseTime, writer);
        }

        return payloads;
    }

    /// <summary>
    /// Sends until <paramref name="stop"/> (the run's end). A request in flight then still completes and counts, so the
    /// server sees no aborted streams; only <paramref name="abort"/> (Ctrl+C) cancels it.
    /// </summary>
    private async Task RunWorkerAsync(int worker, OtlpPayload[] payloads, LongHistogram latency, ulong runSalt, Stopwatch clock, long startUnixNano,
        AcknowledgedTraces? acknowledged, CancellationToken stop, CancellationToken abort)
    {
        // Yield first, so every worker's loop runs on the pool rather than on the caller's thread.
        await Task.Yield();
        using var sender = OtlpSender.Create(options);
        var buffer = new byte[payloads.Max(p => p.Length)];
        var sequence = (ulong)worker << 48;
        TraceId NextTraceId() => new(runSalt, Mix(++sequence));

        for (var next = worker; !stop.IsCancellationRequested; next++)
        {
            var payload = payloads[next % payloads.Length];
            var claimed = Interlocked.Add(ref _spansClaimed, payload.SpanCount) - payload.SpanCount;
            if (claimed >= options.TotalSpans)
            {
                return;
            }

            if (options.Rate > 0)
            {
                var due = TimeSpan.FromSeconds(claimed / options.Rate) - clock.Elapsed;
                if (due > TimeSpan.FromMilliseconds(1))
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

            var length = payload.Stamp(buffer, startUnixNano + (clock.Elapsed.Ticks * 100), NextTraceId);
            var started = Stopwatch.GetTimestamp();
            SendOutcome outcome;
            try
            {
                outcome = await sender.SendAsync(buffer, length, abort);
            }
            catch (Exception) when (abort.IsCancellationRequested)
            {
                // Interrupted with this request in flight (gRPC reports that as an RpcException): neither sent nor failed.
                return;
            }

            latency.RecordValue(Math.Min(HighestLatencyMicros, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds));
            Interlocked.Increment(ref _requests);
            Interlocked.Add(ref _spansSent, payload.SpanCount);
            if (outcome.Error is null)
            {
                Interlocked.Add(ref _spansAccepted, payload.SpanCount - outcome.RejectedSpans);
                Interlocked.Add(ref _spansRejected, outcome.RejectedSpans);
                _probe?.Acknowledged(new TraceId(runSalt, Mix(sequence)));
                if (acknowledged is not null && outcome.RejectedSpans == 0)
                {
                    // The ids Stamp drew for this request were the last TraceCount of this worker's sequence.
                    await acknowledged.WriteAsync(payload, runSalt, sequence - (ulong)payload.TraceCount);
                }
            }
            else
            {
                Interlocked.Increment(ref _failedRequests);
                _errors.AddOrUpdate(outcome.Error, 1, static (_, count) => count + 1);

                // Back off as an exporter would, rather than spinning on a server that is down or shedding load.
                try
                {
                    await Task.Delay(s_failureBackoff, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ReportProgressAsync(Task run, Stopwatch clock, Action<LoadGenProgress> progress)
    {
        var lastAccepted = 0L;
        var lastTime = TimeSpan.Zero;
        while (await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(1))) != run)
        {
            var now = clock.Elapsed;
            var accepted = Interlocked.Read(ref _spansAccepted);
            var rate = (accepted - lastAccepted) / (now - lastTime).TotalSeconds;
            progress(new LoadGenProgress(now, Interlocked.Read(ref _spansSent), accepted, Interlocked.Read(ref _failedRequests), rate));
            (lastAccepted, lastTime) = (accepted, now);
        }
    }

    /// <summary>The --acknowledged file: one line per trace, written and flushed once the server has acknowledged it.</summary>
    private sealed class AcknowledgedTraces(string path) : IAsyncDisposable
    {
        private readonly StreamWriter _writer = new(path, append: false) { AutoFlush = false };
        private readonly SemaphoreSlim _lock = new(1, 1);
        private readonly System.Text.StringBuilder _lines = new();

        public async Task WriteAsync(OtlpPayload payload, ulong runSalt, ulong sequenceBefore)
        {
            await _lock.WaitAsync();
            try
            {
                _lines.Clear();
                var sequence = sequenceBefore;
                foreach (var (spans, tier) in payload.Traces)
                {
                    var id = new TraceId(runSalt, Mix(++sequence));
                    _lines.Append(id.ToHex()).Append(' ').Append(spans).Append(' ').Append(tier.Length == 0 ? "-" : tier).Append('\n');
                }

                await _writer.WriteAsync(_lines);
                await _writer.FlushAsync();
            }
            finally
            {
                _lock.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _writer.DisposeAsync();
            _lock.Dispose();
        }
    }

    /// <summary>SplitMix64's finalizer: a bijection, so distinct sequence numbers give distinct, well-spread ids.</summary>
    private static ulong Mix(ulong value)
    {
        value += 0x9E3779B97F4A7C15;
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EB;
        return value ^ (value >> 31);
    }
}
