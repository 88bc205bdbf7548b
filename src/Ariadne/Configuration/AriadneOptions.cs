namespace Ariadne.Configuration;

/// <summary>
/// All server settings. Bound from (later wins) the config file, <c>ARIADNE__</c> environment variables
/// (<c>ARIADNE__Ports__OtlpGrpc=4317</c>) and command-line flags.
/// </summary>
public sealed class AriadneOptions
{
    public PortOptions Ports { get; set; } = new();

    /// <summary>Address every listener binds; 0.0.0.0 for all interfaces.</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>memory, embedded or clickhouse.</summary>
    public string Storage { get; set; } = "embedded";

    public string DataDirectory { get; set; } = "./ariadne-data";

    /// <summary>
    /// On SIGTERM or SIGINT: how long requests in flight may take to finish before the server stops (then it writes
    /// what is in memory and exits 0).
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public MemoryStorageOptions Memory { get; set; } = new();

    public Storage.Embedded.EmbeddedStorageOptions Embedded { get; set; } = new();

    public Storage.ClickHouse.ClickHouseOptions ClickHouse { get; set; } = new();

    public IngestOptions Ingest { get; set; } = new();

    public Tenancy.TenancyOptions Tenancy { get; set; } = new();

    public Limits.LimitsOptions Limits { get; set; } = new();

    public Access.AuthOptions Auth { get; set; } = new();

    public Alerts.AlertOptions Alerts { get; set; } = new();

    public Logs.LogOptions Logs { get; set; } = new();

    public Sampling.SamplingOptions Sampling { get; set; } = new();

    public Cluster.ClusterOptions Cluster { get; set; } = new();
}

public sealed class PortOptions
{
    public int OtlpGrpc { get; set; } = 4317;

    public int OtlpHttp { get; set; } = 4318;

    public int Zipkin { get; set; } = 9411;

    public int Query { get; set; } = 16686;

    public int Sampling { get; set; } = 5778;

    // Jaeger-native ingest. Unlike the ports above, where 0 picks a free port, 0 turns these listeners off.

    /// <summary>Jaeger collector's Thrift over HTTP (<c>POST /api/traces</c>); 0 disables it.</summary>
    public int JaegerThriftHttp { get; set; } = 14268;

    /// <summary>Jaeger collector's gRPC (<c>jaeger.api_v2.CollectorService/PostSpans</c>); 0 disables it.</summary>
    public int JaegerGrpc { get; set; } = 14250;

    /// <summary>Jaeger agent's UDP port for Thrift compact (<c>emitBatch</c>); 0 disables it.</summary>
    public int JaegerCompact { get; set; } = 6831;

    /// <summary>Jaeger agent's UDP port for Thrift binary (<c>emitBatch</c>); 0 disables it.</summary>
    public int JaegerBinary { get; set; } = 6832;

    /// <summary>Tempo's HTTP API (Grafana's Tempo data source), as Tempo serves it on 3200; 0 disables it (the query port serves it too).</summary>
    public int Tempo { get; set; } = 3200;
}

public sealed class MemoryStorageOptions
{
    public int MaxTraces { get; set; } = 100_000;
}

public sealed class IngestOptions
{
    /// <summary>Largest request body accepted, measured after decompression (also the gzip-bomb guard).</summary>
    public long MaxRequestBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// How long the ingest log's writer waits to gather more records before each fsync. Zero fsyncs as soon as the
    /// previous fsync finished, which already groups every request that arrived meanwhile.
    /// </summary>
    public TimeSpan GroupCommitInterval { get; set; } = TimeSpan.Zero;

    /// <summary>A log segment is closed at this size, so that segments every consumer has passed can be deleted.</summary>
    public long LogSegmentBytes { get; set; } = 64L << 20;

    /// <summary>
    /// How long a request waits for storage to catch up (block writing, ClickHouse inserts) before it is refused with
    /// 503 / UNAVAILABLE. A short wait turns a brief backlog into latency, which exporters handle better than a retry.
    /// </summary>
    public TimeSpan BacklogWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often the span metrics' and service graph's state is saved with the log position it covers, so a restart
    /// neither loses nor double-counts; the log keeps the segments since the last save.
    /// </summary>
    public TimeSpan AggregatesCheckpointInterval { get; set; } = TimeSpan.FromSeconds(10);
}
