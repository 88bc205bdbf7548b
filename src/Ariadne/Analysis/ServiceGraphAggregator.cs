using Ariadne.Model;
using Ariadne.Operations;
using Ariadne.Pipeline;
using Prometheus;

namespace Ariadne.Analysis;

/// <summary>
/// Service-graph edges from every span before sampling, as Tempo's metrics-generator and the OTel Collector's
/// servicegraph connector build them: a client (or producer) span and the server (or consumer) span whose parent
/// it is make one request from the client's service to the server's; a client span that names a database
/// (<c>db.namespace</c>, <c>db.name</c>, <c>db.system.name</c> or <c>db.system</c>) is a request to it at once. The two halves usually arrive
/// in different requests from different services, so a half waits up to <see cref="Wait"/> for its partner and
/// then counts as unpaired. Exposed with Tempo's metric names (<c>traces_service_graph_*</c>), so Grafana's
/// service graph reads them from Prometheus unchanged.
/// </summary>
public sealed class ServiceGraphAggregator : ICheckpointedAggregator
{
    private const byte CheckpointVersion = 1;

    /// <summary>How long a half waits for the other one.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Halves waiting at most, over all shards; past it the oldest are dropped (counted), so memory stays bounded.</summary>
    public const int MaxPending = 100_000;

    /// <summary>Edges (tenant, client, server, connection type) kept as series at most.</summary>
    public const int MaxEdges = 10_000;

    private const string Messaging = "messaging_system";
    private const string Database = "database";

    private readonly TimeProvider _time;
    private readonly Shard[] _shards = Enumerable.Range(0, 16).Select(_ => new Shard()).ToArray();
    private readonly long _waitTicks;
    private readonly Counter _requests;
    private readonly Counter _failed;
    private readonly Histogram _serverSeconds;
    private readonly Histogram _clientSeconds;
    private readonly Counter _unpaired;
    private readonly Counter _dropped;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<EdgeKey, EdgeSeries> _edges = new();

    [ThreadStatic]
    private static BatchScratch? t_batch;

    public ServiceGraphAggregator(CollectorRegistry registry, TimeProvider time)
    {
        _time = time;
        CountingSince = time.GetUtcNow();
        _waitTicks = (long)(Wait.TotalSeconds * time.TimestampFrequency);
        var factory = ServerMetrics.Factory(registry);
        string[] edge = ["tenant", "client", "server", "connection_type"];
        _requests = factory.CreateCounter("traces_service_graph_request_total", "Requests between two services (or a service and a database), from every span before sampling.", edge);
        _failed = factory.CreateCounter("traces_service_graph_request_failed_total", "Requests between two services where either side failed.", edge);
        _serverSeconds = factory.CreateHistogram("traces_service_graph_request_server_seconds", "Duration of the server (or consumer) side of a request.",
            new HistogramConfiguration { LabelNames = edge, Buckets = SpanMetricsAggregator.DurationBuckets });
        _clientSeconds = factory.CreateHistogram("traces_service_graph_request_client_seconds", "Duration of the client (or producer) side of a request.",
            new HistogramConfiguration { LabelNames = edge, Buckets = SpanMetricsAggregator.DurationBuckets });
        _unpaired = factory.CreateCounter("traces_service_graph_unpaired_spans_total", "Client or server halves that found no partner within the wait.", ["tenant", "client", "server"]);
        _dropped = factory.CreateCounter("traces_service_graph_dropped_spans_total", "Halves dropped because too many were waiting.", ["tenant", "client", "server"]);
    }

    /// <summary>When counting began (restored from a checkpoint, before this process started): windows reaching further back were not (all) seen.</summary>
    public DateTimeOffset CountingSince { get; private set; }

    public string CheckpointName => "service-graph";

    /// <summary>Halves waiting for their partner.</summary>
    public int Pending => _shards.Sum(s => s.Count);

    public void Observe(string tenant, IReadOnlyList<Span> spans)
    {
        var now = _time.GetTimestamp();
        var batch = t_batch ??= new BatchScratch();
        batch.Start(tenant);

        // Halves of one request pair here without a lock (an SDK often exports both sides of a call in one batch);
        // only what is left waits in the shared shards.
        for (var i = 0; i < spans.Count; i++)
        {
            var span = spans[i];
            if (span.Kind is SpanKind.Client or SpanKind.Producer)
            {
                batch.Clients.TryAdd((span.TraceId, span.SpanId), i);
            }
        }

        for (var i = 0; i < spans.Count; i++)
        {
            var span = spans[i];
            switch (span.Kind)
            {
                case SpanKind.Server or SpanKind.Consumer when !span.ParentSpanId.IsEmpty:
                    if (batch.Clients.Remove((span.TraceId, span.ParentSpanId), out var client) && DatabaseOf(spans[client]) is null)
                    {
                        Record(batch, Side.Of(spans[client]), Side.Of(span));
                    }
                    else
                    {
                        Pair(new HalfKey(tenant, span.TraceId, span.ParentSpanId), Side.Of(span), isClient: false, now, batch);
                    }

                    break;
                case SpanKind.Client when DatabaseOf(span) is { } database:
                    batch.Clients.Remove((span.TraceId, span.SpanId));
                    Record(batch, span.ServiceName, database, Database, Side.Of(span), server: null);
                    break;
            }
        }

        foreach (var index in batch.Clients.Values)
        {
            var span = spans[index];
            Pair(new HalfKey(tenant, span.TraceId, span.SpanId), Side.Of(span), isClient: true, now, batch);
        }

        foreach (var shard in _shards)
        {
            Expire(shard, now);
        }
    }

    public void WriteCheckpoint(BinaryWriter writer)
    {
        writer.Write(CheckpointVersion);
        writer.Write(CountingSince.ToUnixTimeMilliseconds());
        var edges = _edges.ToArray();
        writer.Write(edges.Length);
        foreach (var (key, series) in edges)
        {
            writer.Write(key.Tenant);
            writer.Write(key.Client);
            writer.Write(key.Server);
            writer.Write(key.ConnectionType);
            lock (series.Minutes)
            {
                writer.Write((long)series.Requests.Value);
                writer.Write((long)series.Failed.Value);
                series.Client.Write(writer);
                series.Server.Write(writer);
                series.Minutes.Write(writer);
            }
        }

        WriteCounter(writer, _unpaired);
        WriteCounter(writer, _dropped);
        var halves = new List<(HalfKey Key, Half Half)>();
        foreach (var shard in _shards)
        {
            lock (shard)
            {
                halves.AddRange(shard.Halves.Select(h => (h.Key, h.Value)));
            }
        }

        writer.Write(halves.Count);
        foreach (var (key, half) in halves)
        {
            writer.Write(key.Tenant);
            writer.Write(key.TraceId.High);
            writer.Write(key.TraceId.Low);
            writer.Write(key.SpanId.Value);
            writer.Write(half.IsClient);
            writer.Write(half.Span.Service);
            writer.Write((int)half.Span.Kind);
            writer.Write(half.Span.IsError);
            writer.Write(half.Span.DurationNanos);
            writer.Write(half.Span.StartNanos);
        }
    }

    public void ReadCheckpoint(BinaryReader reader)
    {
        if (reader.ReadByte() != CheckpointVersion)
        {
            throw new InvalidDataException($"the service graph's part is not version {CheckpointVersion}");
        }

        CountingSince = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
        for (var count = reader.ReadInt32(); count > 0; count--)
        {
            var key = new EdgeKey(reader.ReadString(), reader.ReadString(), reader.ReadString(), reader.ReadString());
            var series = _edges.GetOrAdd(key, NewEdgeSeries);
            series.Requests.Inc(reader.ReadInt64());
            series.Failed.Inc(reader.ReadInt64());
            lock (series.Minutes)
            {
                series.Client.Read(reader, series.ClientSeconds);
                series.Server.Read(reader, series.ServerSeconds);
                series.Minutes.Read(reader);
            }
        }

        ReadCounter(reader, _unpaired);
        ReadCounter(reader, _dropped);

        // A restored half waits its whole wait again: its partner may be in the records replayed after the checkpoint.
        var now = _time.GetTimestamp();
        for (var count = reader.ReadInt32(); count > 0; count--)
        {
            var key = new HalfKey(reader.ReadString(), new TraceId(reader.ReadUInt64(), reader.ReadUInt64()), new SpanId(reader.ReadUInt64()));
            var isClient = reader.ReadBoolean();
            var side = new Side(reader.ReadString(), (SpanKind)reader.ReadInt32(), reader.ReadBoolean(), reader.ReadInt64(), reader.ReadInt64());
            var shard = ShardOf(key);
            lock (shard)
            {
                shard.Halves[key] = new Half(side, isClient, now);
                shard.Order.Enqueue((key, now));
            }
        }
    }

    private static void WriteCounter(BinaryWriter writer, Counter counter)
    {
        var series = counter.GetAllLabelValues().ToArray();
        writer.Write(series.Length);
        foreach (var labels in series)
        {
            writer.Write(labels.Length);
            foreach (var label in labels)
            {
                writer.Write(label);
            }

            writer.Write((long)counter.WithLabels(labels).Value);
        }
    }

    private static void ReadCounter(BinaryReader reader, Counter counter)
    {
        for (var count = reader.ReadInt32(); count > 0; count--)
        {
            var labels = new string[reader.ReadInt32()];
            for (var i = 0; i < labels.Length; i++)
            {
                labels[i] = reader.ReadString();
            }

            counter.WithLabels(labels).Inc(reader.ReadInt64());
        }
    }

    /// <summary>
    /// A tenant's calls between services (client or producer side as parent, server or consumer side as child) whose
    /// called side started in the minutes [<paramref name="fromMinute"/>, <paramref name="toMinute"/>), with those
    /// where either side failed as errors; sorted by parent then child. Database edges and calls within one service
    /// are left out, as Jaeger's dependencies have two different services on their ends.
    /// </summary>
    public IReadOnlyList<DependencyLink> Dependencies(string tenant, long fromMinute, long toMinute)
    {
        var links = new Dictionary<(string Parent, string Child), (long Calls, long Errors)>();
        Span<long> totals = stackalloc long[2];
        foreach (var (key, series) in _edges)
        {
            if (key.Tenant != tenant || key.ConnectionType == Database || key.Client == key.Server)
            {
                continue;
            }

            totals.Clear();
            lock (series.Minutes)
            {
                series.Minutes.AddTo(fromMinute, toMinute, totals);
            }

            if (totals[0] > 0)
            {
                var current = links.GetValueOrDefault((key.Client, key.Server));
                links[(key.Client, key.Server)] = (current.Calls + totals[0], current.Errors + totals[1]);
            }
        }

        return DependencyLink.Sorted(links);
    }

    private void Pair(HalfKey key, Side span, bool isClient, long now, BatchScratch batch)
    {
        var shard = ShardOf(key);
        Side? partner = null;
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

        if (partner is { } other)
        {
            var (client, server) = isClient ? (span, other) : (other, span);
            Record(batch, client, server);
        }
    }

    private Shard ShardOf(HalfKey key) => _shards[(int)((key.TraceId.Low ^ key.SpanId.Value) & (ulong)(_shards.Length - 1))];

    private void Record(BatchScratch batch, Side client, Side server) =>
        Record(batch, client.Service, server.Service, client.Kind == SpanKind.Producer || server.Kind == SpanKind.Consumer ? Messaging : string.Empty, client, server);

    private void Record(BatchScratch batch, string clientService, string serverService, string connectionType, Side client, Side? server)
    {
        var series = batch.Find(clientService, serverService, connectionType);
        if (series is null)
        {
            var key = new EdgeKey(batch.Tenant, clientService, serverService, connectionType);
            if (!_edges.TryGetValue(key, out series))
            {
                // Service names come from clients: past the cap, new edges fold into one, so memory stays bounded.
                series = _edges.GetOrAdd(_edges.Count < MaxEdges ? key : key with { Client = SpanMetricsAggregator.OtherOperation, Server = SpanMetricsAggregator.OtherOperation }, NewEdgeSeries);
            }

            batch.Remember(clientService, serverService, connectionType, series);
        }

        series.Requests.Inc();
        var failed = client.IsError || server?.IsError == true;
        if (failed)
        {
            series.Failed.Inc();
        }

        // In the minute the called side starts in, as a dependency link belongs to its child span's start.
        var minute = MinuteRing.MinuteOf((server ?? client).StartNanos);
        var clientNanos = Math.Max(0, client.DurationNanos);
        var serverNanos = Math.Max(0, server?.DurationNanos ?? 0);
        lock (series.Minutes)
        {
            var counts = series.Minutes.For(minute);
            if (!counts.IsEmpty)
            {
                counts[0]++;
                counts[1] += failed ? 1 : 0;
            }

            series.Client.Add(clientNanos);
            if (server is not null)
            {
                series.Server.Add(serverNanos);
            }
        }

        series.ClientSeconds.Observe(clientNanos / 1e9);
        if (server is not null)
        {
            series.ServerSeconds.Observe(serverNanos / 1e9);
        }
    }

    // prometheus-net's WithLabels looks the series up and allocates on every call: an edge's four series are
    // resolved once and kept.
    private EdgeSeries NewEdgeSeries(EdgeKey key)
    {
        string[] labels = [key.Tenant, key.Client, key.Server, key.ConnectionType];
        return new EdgeSeries(_requests.WithLabels(labels), _failed.WithLabels(labels), _serverSeconds.WithLabels(labels), _clientSeconds.WithLabels(labels));
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
        counter.WithLabels(key.Tenant, half.IsClient ? half.Span.Service : string.Empty, half.IsClient ? string.Empty : half.Span.Service).Inc();

    /// <summary>
    /// The database a client span calls, by the semantic conventions, current names first: <c>db.namespace</c>,
    /// <c>db.name</c>, <c>db.system.name</c>, <c>db.system</c>. One pass over the attributes (most spans have no db.*).
    /// </summary>
    private static string? DatabaseOf(Span span)
    {
        string? best = null;
        var rank = int.MaxValue;
        foreach (var attribute in span.Attributes)
        {
            var key = attribute.Key;
            if (key.Length < 7 || key[0] != 'd' || key[1] != 'b' || key[2] != '.')
            {
                continue;
            }

            var keyRank = key switch
            {
                "db.namespace" => 0,
                "db.name" => 1,
                "db.system.name" => 2,
                "db.system" => 3,
                _ => int.MaxValue,
            };
            if (keyRank < rank && attribute.Value.AsString is { Length: > 0 } name)
            {
                (best, rank) = (name, keyRank);
            }
        }

        return best;
    }

    private readonly record struct HalfKey(string Tenant, TraceId TraceId, SpanId SpanId);

    private readonly record struct EdgeKey(string Tenant, string Client, string Server, string ConnectionType);

    private sealed record EdgeSeries(Counter.Child Requests, Counter.Child Failed, Histogram.Child ServerSeconds, Histogram.Child ClientSeconds)
    {
        /// <summary>Per minute: requests, failed requests.</summary>
        public MinuteRing Minutes { get; } = new(2);

        /// <summary>The two histograms' figures since start, for checkpoints (guarded by <see cref="Minutes"/>).</summary>
        public DurationTotals Client { get; } = new();

        public DurationTotals Server { get; } = new();
    }

    /// <summary>What an edge needs of one side of a request: a waiting half keeps this, not the whole span.</summary>
    private readonly record struct Side(string Service, SpanKind Kind, bool IsError, long DurationNanos, long StartNanos)
    {
        public static Side Of(Span span) => new(span.ServiceName, span.Kind, span.IsError, span.DurationNanos, span.StartTimeUnixNano);
    }

    private readonly record struct Half(Side Span, bool IsClient, long Since);

    /// <summary>Per-thread scratch of one Observe call: the batch's client halves, and the edges it used last.</summary>
    private sealed class BatchScratch
    {
        private readonly (string Client, string Server, string Type, EdgeSeries Series)[] _recent = new (string, string, string, EdgeSeries)[8];
        private int _next;

        public string Tenant { get; private set; } = string.Empty;

        public Dictionary<(TraceId, SpanId), int> Clients { get; } = [];

        public void Start(string tenant)
        {
            Tenant = tenant;
            Clients.Clear();
            Array.Clear(_recent);
        }

        /// <summary>By reference: the decoders intern service names, so an edge's strings repeat as the same objects.</summary>
        public EdgeSeries? Find(string client, string server, string type)
        {
            foreach (var recent in _recent)
            {
                if (ReferenceEquals(recent.Client, client) && ReferenceEquals(recent.Server, server) && ReferenceEquals(recent.Type, type))
                {
                    return recent.Series;
                }
            }

            return null;
        }

        public void Remember(string client, string server, string type, EdgeSeries series)
        {
            _recent[_next] = (client, server, type, series);
            _next = (_next + 1) % _recent.Length;
        }
    }

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
