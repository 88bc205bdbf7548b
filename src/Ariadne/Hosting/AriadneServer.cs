using System.Net;
using Ariadne.Access;
using Ariadne.Alerts;
using Ariadne.Analysis;
using Ariadne.Cluster;
using Ariadne.Configuration;
using Ariadne.Logs;
using Ariadne.Operations;
using Ariadne.Pipeline;
using Ariadne.Query;
using Ariadne.Receivers.Jaeger;
using Ariadne.Receivers.Otlp;
using Ariadne.Receivers.Zipkin;
using Ariadne.Sampling;
using Ariadne.Storage;
using Ariadne.Storage.ClickHouse;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Memory;
using Ariadne.Tenancy;
using Ariadne.Ui;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Prometheus;

namespace Ariadne.Hosting;

/// <summary>
/// The whole server in one process: every listener, the ingest pipeline, storage and the query side.
/// Tests start it exactly as `ariadne serve` does, with port 0 and a temp data directory.
/// </summary>
public sealed class AriadneServer : IAsyncDisposable
{
    private readonly Dictionary<Listener, ListenOptions> _listeners = [];

    private AriadneServer(AriadneOptions options, Action<ILoggingBuilder>? configureLogging, Action<IServiceCollection>? configureServices)
    {
        Options = options;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        // ASP.NET Core logs two lines per request at Information: at ingest rates, thousands of console lines a second.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        if (configureLogging is not null)
        {
            configureLogging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.Ingest.MaxRequestBytes;
            var address = IPAddress.Parse(options.ListenAddress);
            foreach (var (listener, port) in ConfiguredPorts(options))
            {
                Listen(kestrel, address, listener, port, listener.IsGrpc() ? HttpProtocols.Http2 : HttpProtocols.Http1);
            }
        });

        var registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(registry);
        builder.Services.AddSingleton(options);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.AddListenerRouting();
        builder.Services.AddSingleton(registry);
        builder.Services.AddSingleton<IngestMetrics>();
        builder.Services.AddSingleton(new TenantResolver(options.Tenancy));
        builder.Services.AddSingleton(services => CreateStore(options, services));
        builder.Services.AddClickHouseMaintenance(options);
        builder.Services.AddSpanMetrics();
        builder.Services.AddAriadneSampling(options);
        builder.Services.AddCluster(options);
        builder.Services.AddSingleton(services => new IngestPipeline(
            services.GetRequiredService<IngestMetrics>(), services.GetServices<IIngestAggregator>(), services.GetRequiredService<Sampling.Tail.TailSampler>(),
            services.GetRequiredService<Limits.TenantRateLimiter>(), services.GetRequiredService<Limits.SpanLimiter>(), services.GetRequiredService<ISpanStore>(), IngestLogDirectory(options), options.Ingest,
            services.GetRequiredService<ILogger<IngestPipeline>>(), cluster: services.GetService<Cluster.ClusterForwarder>()));
        builder.Services.AddHealthChecks();
        builder.Services.AddAriadneQuery();
        builder.Services.AddAriadneAlerts(options);
        builder.AddAriadneUi();
        builder.Services.AddOtlpReceivers();
        builder.Services.AddJaegerReceivers(options);
        builder.Services.AddAriadneLogs(options);
        builder.Services.AddAccessControl(options);
        configureServices?.Invoke(builder.Services);

        App = builder.Build();
        // Open storage and replay the ingest log now, before any listener takes a request, so a bad data directory
        // fails start-up instead of the first request; sizes go on /metrics.
        StorageMetrics.Register(registry, App.Services.GetRequiredService<ISpanStore>(), App.Services.GetRequiredService<IngestPipeline>());
        // Over the memory bound, the tail sampler decides what it holds now, not at the end of each trace's wait, and
        // then the head (recent spans, in memory) is written out as blocks now, not at its age.
        var memoryLimiter = App.Services.GetRequiredService<Limits.IngestMemoryLimiter>();
        var pipeline = App.Services.GetRequiredService<IngestPipeline>();
        memoryLimiter.AddRelief(pipeline.DecideHeldTracesAsync);
        if (App.Services.GetRequiredService<ISpanStore>() is EmbeddedSpanStore embedded)
        {
            memoryLimiter.AddRelief(() => embedded.CutHeadAsync());
        }

        App.UseRouting();
        App.UseMiddleware<Query.Regions.RegionReadMiddleware>();
        App.UseMiddleware<Receivers.GrpcDeadlineMiddleware>();
        App.UseAccessControl();
        MapOperations(App, registry);
        App.MapZipkinReceiver();
        App.MapAriadneQuery();
        App.MapAriadneUi();
        App.MapOtlpReceivers();
        App.MapJaegerReceivers();
        App.MapSampling();
    }

    public AriadneOptions Options { get; }

    public WebApplication App { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>A server; <paramref name="configureServices"/> runs last, so tests can replace a service (the clock).</summary>
    public static AriadneServer Create(AriadneOptions options, Action<ILoggingBuilder>? configureLogging = null, Action<IServiceCollection>? configureServices = null) =>
        new(options, configureLogging, configureServices);

    public Task StartAsync(CancellationToken cancellationToken = default) => App.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => App.StopAsync(cancellationToken);

    /// <summary>
    /// The first configured port that something else already listens on, so a command can say which one before the
    /// host starts (Kestrel's bind failure is logged with its whole stack first). Ports configured as 0 are skipped.
    /// </summary>
    public static (Listener Listener, int Port)? FindPortInUse(AriadneOptions options)
    {
        var address = IPAddress.Parse(options.ListenAddress);
        foreach (var (listener, port) in ConfiguredPorts(options))
        {
            if (port == 0)
            {
                continue;
            }

            var probe = new System.Net.Sockets.TcpListener(address, port);
            try
            {
                probe.Start();
            }
            catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
            {
                return (listener, port);
            }
            finally
            {
                probe.Stop();
            }
        }

        return null;
    }

    /// <summary>The TCP listeners; the Jaeger and Tempo ones only when enabled (their 0 means off, not a free port).</summary>
    private static (Listener Listener, int Port)[] ConfiguredPorts(AriadneOptions options) =>
    [
        (Listener.OtlpGrpc, options.Ports.OtlpGrpc),
        (Listener.OtlpHttp, options.Ports.OtlpHttp),
        (Listener.Zipkin, options.Ports.Zipkin),
        (Listener.Query, options.Ports.Query),
        (Listener.Sampling, options.Ports.Sampling),
        .. options.Ports.JaegerThriftHttp == 0 ? Array.Empty<(Listener, int)>() : [(Listener.JaegerThriftHttp, options.Ports.JaegerThriftHttp)],
        .. options.Ports.JaegerGrpc == 0 ? Array.Empty<(Listener, int)>() : [(Listener.JaegerGrpc, options.Ports.JaegerGrpc)],
        .. options.Ports.Tempo == 0 ? Array.Empty<(Listener, int)>() : [(Listener.Tempo, options.Ports.Tempo)],
        .. options.Cluster.Enabled ? [(Listener.Cluster, options.Cluster.InternalPort)] : Array.Empty<(Listener, int)>(),
    ];

    /// <summary>The port a listener is bound to; after start, the real one even when configured as 0.</summary>
    public int GetPort(Listener listener) => _listeners.TryGetValue(listener, out var listen)
        ? ((IPEndPoint)listen.EndPoint).Port
        : throw new InvalidOperationException($"The {listener} listener is turned off (its port is 0); configure a port for it.");

    /// <summary>A loopback base address of a listener, for clients on this machine.</summary>
    public Uri GetUri(Listener listener) => new($"http://127.0.0.1:{GetPort(listener)}");

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
    }

    /// <summary>The ingest log lives in the data directory whenever storage is durable; the memory engine runs without one.</summary>
    private static string? IngestLogDirectory(AriadneOptions options) =>
        options.Storage == "embedded" || (options.Storage == "clickhouse" && options.ClickHouse.Wal)
            ? Path.Combine(options.DataDirectory, IngestPipeline.LogDirectoryName)
            : null;

    private static ISpanStore CreateStore(AriadneOptions options, IServiceProvider services) => options.Storage switch
    {
        "memory" => new MemorySpanStore(options.Memory.MaxTraces),
        "embedded" => EmbeddedSpanStore.Open(options.DataDirectory, options.Embedded.WithTenantRetention(options.Tenancy), TimeProvider.System,
            services.GetRequiredService<ILoggerFactory>().CreateLogger<EmbeddedSpanStore>()),
        "clickhouse" => ClickHouseSpanStore.Create(options, services),
        _ => throw new InvalidOperationException($"Storage: the '{options.Storage}' engine is not available in this build; use --storage memory."),
    };

    private static void MapOperations(WebApplication app, CollectorRegistry registry)
    {
        app.MapGet("/health/live", () => Results.Text("OK")).RequireListener(Listener.Query);
        app.MapHealthChecks("/health/ready").RequireListener(Listener.Query);
        app.MapMetrics("/metrics", registry).RequireListener(Listener.Query);
    }

    private void Listen(KestrelServerOptions kestrel, IPAddress address, Listener listener, int port, HttpProtocols protocols)
    {
        kestrel.Listen(address, port, listen =>
        {
            listen.Protocols = protocols;
            listen.TagConnections(listener);
            _listeners[listener] = listen;
        });
    }
}
