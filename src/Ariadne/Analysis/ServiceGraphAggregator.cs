using Ariadne.Model;
using Ariadne.Pipeline;
using Prometheus;

namespace Ariadne.Analysis;

/// <summary>
/// Service-graph edges from every span before sampling, as Tempo's metrics-generator and the OTel Collector's
/// servicegraph connector build them: a client (or producer) span and the server (or consumer) span whose parent
/// it is make one request from the client's service to the server's; a client span that names a database
/// (<c>db.system.name</c>/<c>db.system</c>) is a request to that database at once. The two halves usually arrive
/// in different requests from different services, so a half waits up to <see cref="Wait"/> for its partner and
/// then counts as unpaired. Exposed with Tempo's metric names (<c>traces_service_graph_*</c>), so Grafana's
/// service graph reads them from Prometheus unchanged.
/// </summary>
public sealed class ServiceGraphAggregator : IIngestAggregator
{
    /// <summary>How long a half waits for the other one.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Halves waiting at most, over all shards; past it the oldest are dropped (counted), so memory stays bounded.</summary>
    public const int MaxPending = 100_000;

    private const string Messaging = "messaging_system";
    private const string Database = "database";
    private static readonly double[] s_buckets = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly TimeProvider _time;
    private readonly Shard[] _shards = Enumerable.Range(0, 16).Select(_ => new Shard()).ToArray();
    private readonly long _waitTicks;
    private readonly Counter _requests;
    private readonly Counter _failed;
    private readonly Histogram _serverSeconds;
    private readonly Histogram _clientSeconds;
    private readonly Counter _unpaired;
    private readonly Counter _dropped;

    public ServiceGraphAggregator(CollectorRegistry registry, TimeProvider time)
    {
        _time = time;
        _waitTicks = (long)(Wait.TotalSeconds * time.TimestampFrequency);
        var factory = Metrics.WithCustomRegistry(registry);
        string[] edge = ["tenant", "client", "server", "connection_type"];
        _requests = factory.CreateCounter("traces_service_graph_request_total", "Requests between two services (or a service and a database), from every span before sampling.", edge);
        _failed = factory.CreateCounter("traces_service_graph_request_failed_total", "Requests between two services where either side failed.", edge);
        _serverSeconds = factory.CreateHistogram("traces_service_graph_request_server_seconds", "Duration of the server (or consumer) side of a request.",
            new HistogramConfiguration { LabelNames = edge, Buckets = s_buckets });
        _clientSeconds = factory.CreateHistogram("traces_service_graph_request_client_seconds", "Duration of the client (or producer) side of a request.",
            new HistogramConfiguration { LabelNames = edge, Buckets = s_buckets });
        _unpaired = factory.CreateCounter("traces_service_graph_unpaired_spans_total", "Client or server halves that found no partner within the wait.", ["tenant", "client", "server"]);
        _dropped = factory.CreateCounter("traces_service_graph_dropped_spans_total", "Halves dropped because too many were waiting.", ["tenant", "client", "server"]);
    }

    /// <summary>Halves waiting for their partner.</summary>
    public int Pending => _shards.Sum(s => s.Count);

    public void Observe(string tenant, IReadOnlyList<Span> spans)
    {
        var now = _time.GetTimestamp();
        foreach (var span in spans)
        {
            switch (span.Kind)
            {
                case SpanKind.Client when DatabaseOf(span) is { } database:
                    Record(tenant, span.ServiceName, database, Database, client: span, server: null);
                    break;
                case SpanKind.Client or SpanKind.Producer:
                    Pair(tenant, new HalfKey(tenant, span.TraceId, span.SpanId), span, isClient: true, now);
                    break;
                case SpanKind.Server or SpanKind.Consumer when !span.ParentSpanId.IsEmpty:
                    Pair(tenant, new HalfKey(tenant, span.TraceId, span.ParentSpanId), span, isClient: false, now);
                    break;
            }
        }

        foreach (var shard in _shards)
        {
            Expire(shard, now);
        }
    }

    private void Pair(string tenant, HalfKey key, Span span, bool isClient, long now)
    {
        var shard = _shards[(int)((key.TraceId.Low ^ key.SpanId.Value) & (ulong)(_shards.Length - 1))];
        Span? partner = null;
        lock (shard)
        {
            if (shard.Halves.Remove(key, out var waiting) && waiting.IsClient != isClient)
            {
                partner = waiting.Span;
            }
            else
            {
                while (shard.Halves.Count >= MaxPending / _shards.Length && shard.Order.TryDequeue(out var oldest))
                {
                    if (shard.Halves.Remove(oldest.Key, out var dropped))
                    {
                        Count(_dropped, oldest.Key, dropped);
                    }
                }

                shard.Halves[key] = new Half(span, isClient, now);
                shard.Order.Enqueue((key, now));
            }
        }

        if (partner is not null)
        {
            var (client, server) = isClient ? (span, partner) : (partner, span);
            Record(tenant, client.ServiceName, server.ServiceName, client.Kind == SpanKind.Producer || server.Kind == SpanKind.Consumer ? Messaging : string.Empty, client, server);
        }
    }

    private void Record(string tenant, string clientService, string serverService, string connectionType, Span client, Span? server)
    {
        _requests.WithLabels(tenant, clientService, serverService, connectionType).Inc();
        if (client.IsError || server?.IsError == true)
        {
            _failed.WithLabels(tenant, clientService, serverService, connectionType).Inc();
        }

        _clientSeconds.WithLabels(tenant, clientService, serverService, connectionType).Observe(Math.Max(0, client.DurationNanos) / 1e9);
        if (server is not null)
        {
            _serverSeconds.WithLabels(tenant, clientService, serverService, connectionType).Observe(Math.Max(0, server.DurationNanos) / 1e9);
        }
    }

    private void Expire(Shard shard, long now)
    {
        lock (shard)
        {
            while (shard.Order.TryPeek(out var next) && now - next.Since > _waitTicks)
            {
                shard.Order.Dequeue();
                if (shard.Halves.TryGetValue(next.Key, out var half) && half.Since == next.Since)
                {
                    shard.Halves.Remove(next.Key);
                    Count(_unpaired, next.Key, half);
                }
            }
        }
    }

    /// <summary>Counts a half that never met its partner, under its own side's service.</summary>
    private static void Count(Counter counter, HalfKey key, Half half) =>
        counter.WithLabels(key.Tenant, half.IsClient ? half.Span.ServiceName : string.Empty, half.IsClient ? string.Empty : half.Span.ServiceName).Inc();

    /// <summary>The database a client span calls, by the semantic conventions (current and older names).</summary>
    private static string? DatabaseOf(Span span)
    {
        foreach (var key in (ReadOnlySpan<string>)["db.namespace", "db.name", "db.system.name", "db.system"])
        {
            if (span.TryGetAttribute(key, out var value) && value.AsString is { Length: > 0 } name)
            {
                return name;
            }
        }

        return null;
    }

    private readonly record struct HalfKey(string Tenant, TraceId TraceId, SpanId SpanId);

    private readonly record struct Half(Span Span, bool IsClient, long Since);

    private sealed class Shard
    {
        public Dictionary<HalfKey, Half> Halves { get; } = [];

        /// <summary>Keys by arrival, for expiry; an entry whose half was paired, or replaced by a newer one, is skipped then.</summary>
        public Queue<(HalfKey Key, long Since)> Order { get; } = new();

        public int Count
        {
            get
            {
                lock (this)
                {
                    return Halves.Count;
                }
            }
        }
    }
}
