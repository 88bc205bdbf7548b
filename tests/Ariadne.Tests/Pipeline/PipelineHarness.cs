using Ariadne.Configuration;
using Ariadne.Limits;
using Ariadne.Model;
using Ariadne.Operations;
using Ariadne.Pipeline;
using Ariadne.Sampling;
using Ariadne.Sampling.Tail;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using Ariadne.Tenancy;
using Ariadne.Tests.Storage.Embedded;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace Ariadne.Tests.Pipeline;

/// <summary>
/// The real ingest pipeline (log, tail sampler, embedded engine) over one data directory, as the server wires it, on
/// a fake clock. A crash is <see cref="CrashCopy"/>: a second harness over a copy of the directory taken while this
/// one runs, which is what a restart after SIGKILL finds.
/// </summary>
internal sealed class PipelineHarness : IAsyncDisposable
{
    public PipelineHarness(
        string directory, FakeTimeProvider time, SamplingOptions? sampling = null, IngestOptions? ingest = null, ISpanStore? store = null,
        IReadOnlyList<IIngestAggregator>? aggregators = null, EmbeddedStorageOptions? embedded = null, IDurableFiles? files = null)
    {
        Directory = directory;
        Store = store ?? EmbeddedSpanStore.Open(directory, embedded ?? new EmbeddedStorageOptions { RowGroupSpans = 64 }, time, Log, files);
        var registry = Metrics.NewCustomRegistry();
        Sampler = new TailSampler(sampling ?? new SamplingOptions(), new TailSamplingMetrics(registry), time);
        try
        {
            Pipeline = new IngestPipeline(new IngestMetrics(registry), aggregators ?? [], Sampler, new TenantRateLimiter(new TenantResolver(new TenancyOptions()), new LimitsOptions(), time),
                new SpanLimiter(new TenantResolver(new TenancyOptions()), new LimitsOptions(), time),
                Store, LogDirectory, ingest ?? new IngestOptions(), new CapturingLoggerOf<IngestPipeline>(Log), files);
        }
        catch
        {
            // A server whose pipeline cannot start exits: the engine lets go of the directory.
            Store.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    public string Directory { get; }

    public string LogDirectory => Path.Combine(Directory, IngestPipeline.LogDirectoryName);

    public CapturingLogger Log { get; } = new();

    public ISpanStore Store { get; }

    public EmbeddedSpanStore Embedded => (EmbeddedSpanStore)Store;

    public TailSampler Sampler { get; }

    public IngestPipeline Pipeline { get; }

    /// <summary>Sends one batch as a receiver would; returns the pipeline's answer (acknowledged unless Unavailable is set).</summary>
    public async Task<IngestResult> IngestAsync(string tenant, IEnumerable<Span> spans)
    {
        var batch = new SpanBatch();
        batch.Spans.AddRange(spans);
        return await Pipeline.IngestAsync(tenant, "test", batch, CancellationToken.None);
    }

    public List<string> Segments() => System.IO.Directory.GetFiles(LogDirectory, "*.wal").Order(StringComparer.Ordinal).ToList();

    /// <summary>A copy of the data directory as it is on disk now (without the process lock): what a restart after a crash finds.</summary>
    public string CrashCopy()
    {
        var copy = System.IO.Directory.CreateTempSubdirectory("ariadne-crash-").FullName;
        foreach (var file in System.IO.Directory.GetFiles(Directory, "*", SearchOption.AllDirectories).Where(p => Path.GetFileName(p) != "LOCK"))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(Directory, file));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return copy;
    }

    public async ValueTask DisposeAsync()
    {
        await Pipeline.DisposeAsync();
        await Store.DisposeAsync();
    }
}

/// <summary>A typed logger that writes into a <see cref="CapturingLogger"/>.</summary>
internal sealed class CapturingLoggerOf<T>(CapturingLogger inner) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        inner.Log(logLevel, eventId, state, exception, formatter);
}
