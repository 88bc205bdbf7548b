using System.Text;
using System.Threading.Channels;
using Ariadne.Model;

namespace Ariadne.Storage.ClickHouse;

/// <summary>
/// The ClickHouse engine. Fed from the ingest log (<see cref="Take"/>), it queues what the log hands it and one
/// writer moves it into ClickHouse in large INSERTs, in log order, retrying with backoff while ClickHouse is away
/// (the log keeps every span until then, so outages lose nothing). Called directly (<see cref="AppendAsync"/>: no
/// log, as the contract tests and the bench use it), appends are grouped:
/// concurrent callers share one RowBinary INSERT of up to <see cref="ClickHouseOptions.MaxBatchSpans"/> spans, and
/// each returns once its spans are in ClickHouse. Cluster inserts are synchronous (on every shard they go to).
/// Reads go through the Distributed tables. The schema is created or migrated on first use
/// (see <see cref="ClickHouseMigrations"/>).
/// </summary>
public sealed partial class ClickHouseSpanStore : ISpanStore, ILogFedStore
{
    /// <summary>Traces fetched per query: ids and key ranges are literals, and a statement must stay well under max_query_size.</summary>
    private const int FetchChunk = 100;

    private readonly ClickHouseOptions _options;
    private readonly ILogger _logger;
    private readonly ClickHouseClient[] _nodes;
    private readonly Channel<PendingAppend> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _initLock = new();
    private readonly List<Task> _writers = [];
    private Task<ClickHouseSchema>? _init;
    private StorageStats _stats;
    private int _preferredNode;

    /// <param name="spillDirectory">Where the log feed keeps spans past its memory bound while ClickHouse is away (<see cref="FeedSpill"/>); null keeps none, refusing ingest there instead.</param>
    public ClickHouseSpanStore(ClickHouseOptions options, ILogger? logger = null, string? spillDirectory = null)
    {
        _options = options;
        _spill = spillDirectory is null || options.MaxSpillBytes == 0 ? null : new FeedSpill(spillDirectory, options.MaxBatchSpans);
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _nodes = options.ParseUrls().Select(u => new ClickHouseClient(u, options.User, options.Password, options.RequestTimeout)).ToArray();
        _queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(Math.Max(64, options.InsertConcurrency * 64))
        {
            SingleWriter = false,
            SingleReader = false,
        });
    }

    public IReadOnlyList<ClickHouseClient> Nodes => _nodes;

    /// <summary>The engine as `ariadne serve` runs it (fed from the ingest log unless ClickHouse:Wal is off).</summary>
    public static ClickHouseSpanStore Create(Configuration.AriadneOptions options, IServiceProvider services) => new(
        options.ClickHouse, services.GetRequiredService<ILoggerFactory>().CreateLogger<ClickHouseSpanStore>(), Path.Combine(options.DataDirectory, SpillDirectoryName));

    /// <summary>The log feed's spill under the data directory (<see cref="FeedSpill"/>).</summary>
    public const string SpillDirectoryName = "clickhouse-spill";

    /// <summary>Connects, checks the cluster, migrates the schema to the latest version and starts the writers.</summary>
    public Task<ClickHouseSchema> InitializeAsync(CancellationToken cancellationToken = default) => InitializeAsync(ClickHouseMigrations.Latest, cancellationToken);

    /// <summary>As <see cref="InitializeAsync(CancellationToken)"/>, stopping at a given schema version (tests of upgrades).</summary>
    public Task<ClickHouseSchema> InitializeAsync(int schemaVersion, CancellationToken cancellationToken)
    {
        lock (_initLock)
        {
            if (_init is null || _init.IsFaulted || _init.IsCanceled)
            {
                _init = InitializeCoreAsync(schemaVersion, cancellationToken);
            }

            return _init;
        }
    }

    public async ValueTask AppendAsync(string tenant, IReadOnlyList<Span> spans, CancellationToken cancellationToken)
    {
        if (spans.Count == 0)
        {
            return;
        }

        await InitializeAsync(cancellationToken);
        var pending = new PendingAppend(tenant, spans, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        await pending.Done.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask<IReadOnlyList<Span>> GetTraceAsync(string tenant, TraceId traceId, CancellationToken cancellationToken)
    {
        var traces = await FetchTracesAsync(tenant, [traceId], cancellationToken);
        return traces.Count == 0 ? [] : traces[0];
    }

    public async ValueTask<IReadOnlyList<string>> GetServicesAsync(string tenant, CancellationToken cancellationToken)
    {
        var schema = await InitializeAsync(cancellationToken);
        var rows = await QueryRowsAsync(
            $"SELECT DISTINCT service FROM {schema.Table("operations")} WHERE tenant = {ClickHouseSql.Quote(tenant)}", cancellationToken);
        var services = rows.Select(r => r[0]).ToList();
        services.Sort(StringComparer.Ordinal);
        return services;
    }

    public async ValueTask<IReadOnlyList<OperationInfo>> GetOperationsAsync(string tenant, string service, SpanKind? kind, CancellationToken cancellationToken)
    {
        var schema = await InitializeAsync(cancellationToken);
        var sql = $"SELECT DISTINCT name, kind FROM {schema.Table("operations")} WHERE tenant = {ClickHouseSql.Quote(tenant)} AND service = {ClickHouseSql.Quote(service)}"
            + (kind is { } k ? $" AND kind = {(int)k}" : string.Empty);
        var rows = await QueryRowsAsync(sql, cancellationToken);
        return rows.Select(r => new OperationInfo(r[0], (SpanKind)byte.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(o => o.Name, StringComparer.Ordinal).ThenBy(o => o.Kind).ToList();
    }

    public async ValueTask<IReadOnlyList<IReadOnlyList<Span>>> FindTracesAsync(string tenant, TraceQuery query, CancellationToken cancellationToken)
    {
        var schema = await InitializeAsync(cancellationToken);
        var where = new StringBuilder($"tenant = {ClickHouseSql.Quote(tenant)}");
        if (query.ServiceName is { Length: > 0 } service)
        {
            where.Append($" AND service = {ClickHouseSql.Quote(service)}");
        }

        if (query.OperationName is { Length: > 0 } operation)
        {
            where.Append($" AND name = {ClickHouseSql.Quote(operation)}");
        }

        if (query.MinDuration is { } min)
        {
            where.Append($" AND duration_ns >= {ClickHouseSql.Number(min.Ticks * 100)}");
        }

        if (query.MaxDuration is { } max)
        {
            where.Append($" AND duration_ns <= {ClickHouseSql.Number(max.Ticks * 100)}");
        }

        foreach (var (key, value) in query.Tags)
        {
            where.Append(" AND (").Append(TagFilter.Condition(key, value)).Append(')');
        }

        var limit = Math.Max(0, query.Limit);
        var lower = ToNanos(query.StartTimeMin);
        var upper = ToNanos(query.StartTimeMax);
        var found = new Dictionary<TraceId, long>();

        // Search the newest slice of the window first and widen backwards (doubling) until `limit` traces start
        // inside the slices searched: a trace matching only further back starts further back, so it cannot outrank
        // them. Common searches (a frequent operation in the last hour) then read a sliver of the window.
        var slice = upper == long.MaxValue ? long.MaxValue : Math.Max((upper - lower) / 16, 10_000_000_000L);
        var sliceEnd = upper;
        while (true)
        {
            var sliceStart = slice == long.MaxValue || sliceEnd - lower <= slice ? lower : sliceEnd - slice;
            await FindTraceStartsAsync(schema, tenant, $"{where} AND start_ns >= {ClickHouseSql.Number(sliceStart)} AND start_ns <= {ClickHouseSql.Number(sliceEnd)}", sliceEnd, limit, found, cancellationToken);
            if (sliceStart == lower || found.Values.Count(start => start >= sliceStart) >= limit)
            {
                break;
            }

            sliceEnd = sliceStart - 1;
            slice = slice > long.MaxValue / 2 ? long.MaxValue : slice * 2;
        }

        var ids = found.OrderByDescending(f => f.Value).ThenBy(f => f.Key).Take(limit).Select(f => f.Key).ToList();
        var traces = await FetchTracesAsync(tenant, ids, cancellationToken);
        return traces.OrderByDescending(t => t.Min(s => s.StartTimeUnixNano)).ThenBy(t => t[0].TraceId).ToList();
    }

    /// <summary>
    /// True once a <see cref="Minutes.ClickHouseMinuteFeed"/> counts calls and edges before sampling: dependencies then
    /// read <c>edge_minutes</c> (whole minutes) instead of joining spans, and RED reads <c>call_minutes</c>
    /// (<see cref="CallMinutesAsync"/>). Every node's feed writes there, so every node reads the cluster's figures.
    /// </summary>
    public bool HasMinuteFeed { get; internal set; }

    public async ValueTask<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken)
    {
        var schema = await InitializeAsync(cancellationToken);
        var t = ClickHouseSql.Quote(tenant);
        if (HasMinuteFeed)
        {
            return await DependenciesFromMinutesAsync(schema, t, endTime - lookback, endTime, cancellationToken);
        }

        var from = ClickHouseSql.Number(ToNanos(endTime - lookback));
        var to = ClickHouseSql.Number(ToNanos(endTime));

        // A call belongs to the window its child span starts in; the parent may start anywhere in the trace, so the
        // parent side is every span whose id and trace id are among the children's parents (two hash-set filters over
        // a scan, which keeps the join's hash table as small as the window).
        var children = $"FROM {schema.Table("spans")} WHERE tenant = {t} AND parent_span_id != 0 AND start_ns >= {from} AND start_ns <= {to}";

        // A trace lives on one shard, so the parent/child join runs on each shard over its local tables
        // (distributed_product_mode=local) and only the per-edge counts travel.
        var sql = $"""
            SELECT parent_service, child_service, count(), countIf(child_error)
            FROM (SELECT trace_id, parent_span_id AS span_id, service AS child_service, status_code = 2 AS child_error {children})
            ALL INNER JOIN
                 (SELECT trace_id, span_id, any(service) AS parent_service FROM {schema.Table("spans")}
                  WHERE tenant = {t} AND span_id IN (SELECT parent_span_id {children}) AND trace_id IN (SELECT trace_id {children})
                  GROUP BY trace_id, span_id)
            USING (trace_id, span_id)
            WHERE parent_service != child_service
            GROUP BY parent_service, child_service
            """;
        var rows = await QueryRowsAsync(sql, cancellationToken, DistributedSettings(schema));
        return rows.Select(r => new DependencyLink(r[0], r[1], long.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture), long.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(l => l.Parent, StringComparer.Ordinal).ThenBy(l => l.Child, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Edges of the minutes that overlap [<paramref name="start"/>, <paramref name="end"/>): a minute partly inside
    /// the window counts whole (the figures are per minute), and a window ending on a minute's first instant leaves
    /// that minute out, so two windows that meet there (the pre-sampling correction splits one at a whole minute)
    /// count it once. Reads a day's rows, not its spans.
    /// </summary>
    private async Task<IReadOnlyList<DependencyLink>> DependenciesFromMinutesAsync(ClickHouseSchema schema, string tenant, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var from = Math.Max(0, start.ToUnixTimeSeconds()) / 60 * 60;
        var endNanos = Math.Min(ToNanos(end), long.MaxValue - 60_000_000_000);
        var to = Math.Clamp((endNanos + 59_999_999_999) / 60_000_000_000 * 60, 0, uint.MaxValue);
        var rows = await QueryRowsAsync(
            $"SELECT parent, child, sum(calls), sum(errors) FROM {schema.Table("edge_minutes")} " +
            $"WHERE tenant = {tenant} AND minute >= toDateTime({ClickHouseSql.Number(from)}) AND minute < toDateTime({ClickHouseSql.Number(to)}) AND parent != child " +
            "GROUP BY parent, child",
            cancellationToken);
        return DependencyLink.Sorted(rows.ToDictionary(
            r => (r[0], r[1]),
            r => (long.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture), long.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture))));
    }

    public StorageStats GetStats() => _stats;

    /// <summary>Reads the size figures <see cref="GetStats"/> returns (spans and bytes summed over the nodes' local tables).</summary>
    public async Task<StorageStats> RefreshStatsAsync(CancellationToken cancellationToken)
    {
        var schema = await InitializeAsync(cancellationToken);
        long spans = 0, bytes = 0;
        var tables = ClickHouseSql.List(ClickHouseSchema.PartitionedTables.Select(p => schema.LocalTableName(p.Table)));
        foreach (var node in _nodes)
        {
            var rows = await node.QueryRowsAsync(
                $"SELECT sumIf(rows, table = {ClickHouseSql.Quote(schema.LocalTableName("spans"))}), sum(bytes_on_disk) FROM system.parts " +
                $"WHERE active AND database = {ClickHouseSql.Quote(schema.Database)} AND table IN ({tables})",
                cancellationToken);
            spans += long.Parse(rows[0][0], System.Globalization.CultureInfo.InvariantCulture);
            bytes += long.Parse(rows[0][1], System.Globalization.CultureInfo.InvariantCulture);
        }

        var traces = await QueryRowsAsync($"SELECT uniqCombined(trace_id) FROM {schema.Table("trace_index")}", cancellationToken);
        _stats = new StorageStats(spans, long.Parse(traces[0][0], System.Globalization.CultureInfo.InvariantCulture), bytes);
        return _stats;
    }

    public async ValueTask DisposeAsync()
    {
        await StopFeedAsync();
        _queue.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_writers);
        }
        finally
        {
            await _stopping.CancelAsync();
            _stopping.Dispose();
            foreach (var node in _nodes)
            {
                node.Dispose();
            }
        }
    }

    /// <summary>Nanoseconds since the epoch, clamped to what a signed 64-bit count holds (1970 to 2262).</summary>
    internal static long ToNanos(DateTimeOffset time)
    {
        var ticks = (time - DateTimeOffset.UnixEpoch).Ticks;
        return ticks <= 0 ? 0 : ticks >= long.MaxValue / 100 ? long.MaxValue : ticks * 100;
    }

    /// <summary>Runs a SELECT on the first node that answers, starting with the one that answered last.</summary>
    internal async Task<byte[]> QueryAsync(string sql, CancellationToken cancellationToken, params (string, string)[] settings)
    {
        for (var attempt = 0; ; attempt++)
        {
            var index = (_preferredNode + attempt) % _nodes.Length;
            try
            {
                var body = await _nodes[index].QueryAsync(sql, cancellationToken, settings);
                _preferredNode = index;
                return body;
            }
            catch (ClickHouseException e) when (e.Unreachable && attempt + 1 < _nodes.Length)
            {
            }
        }
    }

    internal async Task<IReadOnlyList<string[]>> QueryRowsAsync(string sql, CancellationToken cancellationToken, params (string, string)[] settings) =>
        ClickHouseSql.ParseTabSeparated(Encoding.UTF8.GetString(await QueryAsync(sql + " FORMAT TabSeparated", cancellationToken, settings)));

    private static (string, string)[] DistributedSettings(ClickHouseSchema schema) =>
        schema.IsCluster ? [("distributed_product_mode", "local")] : [];

    private async Task<ClickHouseSchema> InitializeCoreAsync(int schemaVersion, CancellationToken cancellationToken)
    {
        var version = ClickHouseVersion.Parse((await _nodes[0].QueryRowsAsync("SELECT version()", cancellationToken))[0][0]);
        var cluster = string.IsNullOrEmpty(_options.Cluster) ? null : _options.Cluster;
        if (cluster is not null)
        {
            foreach (var node in _nodes)
            {
                var shards = await node.QueryRowsAsync(
                    $"SELECT count(DISTINCT shard_num) FROM system.clusters WHERE cluster = {ClickHouseSql.Quote(cluster)}", cancellationToken);
                if (shards[0][0] == "0")
                {
                    throw new ClickHouseException(
                        $"ClickHouse at {node.BaseUri} has no cluster '{cluster}' in its remote_servers; add it to the server config or fix ClickHouse:Cluster (--clickhouse-cluster).",
                        unreachable: false);
                }
            }
        }

        var schema = new ClickHouseSchema(_options.Database, cluster, version);
        await ClickHouseMigrations.ApplyAsync(_nodes, schema, schemaVersion, cancellationToken);
        var insert = $"INSERT INTO {schema.Table("spans")} ({SpanRows.InsertColumnList}) FORMAT RowBinary";
        var settings = schema.InsertSettings;
        lock (_initLock)
        {
            if (_writers.Count == 0)
            {
                for (var i = 0; i < _options.InsertConcurrency; i++)
                {
                    _writers.Add(Task.Run(() => WriteLoopAsync(insert, settings)));
                }
            }
        }

        return schema;
    }

    private async Task WriteLoopAsync(string insert, (string, string)[] settings)
    {
        var writer = new RowBinaryWriter();
        var batch = new List<PendingAppend>();
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            writer.Reset();
            var spans = 0;
            while (spans < _options.MaxBatchSpans && reader.TryRead(out var pending))
            {
                batch.Add(pending);
                foreach (var span in pending.Spans)
                {
                    SpanRows.Write(writer, pending.Tenant, span);
                }

                spans += pending.Spans.Count;
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                await InsertAsync(insert, writer.WrittenMemory, settings, _stopping.Token);
                foreach (var pending in batch)
                {
                    pending.Done.TrySetResult();
                }
            }
            catch (Exception e)
            {
                foreach (var pending in batch)
                {
                    pending.Done.TrySetException(e);
                }
            }
        }
    }

    /// <summary>Runs an INSERT on the first node that answers, starting with the one that answered last.</summary>
    internal async Task InsertAsync(string insert, ReadOnlyMemory<byte> data, (string, string)[] settings, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var index = (_preferredNode + attempt) % _nodes.Length;
            try
            {
                await _nodes[index].InsertAsync(insert, data, cancellationToken, settings);
                return;
            }
            catch (ClickHouseException e) when (e.Unreachable && attempt + 1 < _nodes.Length)
            {
            }
        }
    }

    /// <summary>
    /// Whole traces by id. The spans table is ordered for search, so the trace index supplies, per trace, its time range
    /// and (service, operation) pairs: each pair with the range is an exact primary-key range, and ClickHouse reads only
    /// the granules of those ranges (18.16 cannot narrow by time under an IN list or an unconstrained operation).
    /// </summary>
    private async Task<IReadOnlyList<IReadOnlyList<Span>>> FetchTracesAsync(string tenant, IReadOnlyList<TraceId> ids, CancellationToken cancellationToken)
    {
        var traces = new List<IReadOnlyList<Span>>(ids.Count);
        foreach (var chunk in ids.Chunk(FetchChunk))
        {
            traces.AddRange(await FetchChunkAsync(tenant, chunk, cancellationToken));
        }

        return traces;
    }

    private async Task<IEnumerable<IReadOnlyList<Span>>> FetchChunkAsync(string tenant, TraceId[] ids, CancellationToken cancellationToken)
    {
        var schema = await InitializeAsync(cancellationToken);
        var t = ClickHouseSql.Quote(tenant);
        var idList = string.Join(", ", ids.Select(ClickHouseSql.TraceId));
        var index = await QueryAsync(
            $"SELECT trace_id, start_min, start_max, op_services, op_names FROM {schema.Table("trace_index")} " +
            $"WHERE tenant = {t} AND trace_id IN ({idList}) FORMAT RowBinary",
            cancellationToken);
        var ranges = ReadIndex(index);
        if (ranges.Count == 0)
        {
            return [];
        }

        var body = await QueryAsync(
            $"SELECT {SpanRows.SelectColumnList} FROM {schema.Table("spans")} " +
            $"WHERE tenant = {t} AND ({string.Join(" OR ", ranges.Values.Select(r => r.ToSql()))}) AND trace_id IN ({idList}) " +
            "LIMIT 1 BY trace_id, span_id FORMAT RowBinary",
            cancellationToken);
        return ReadSpans(body).GroupBy(s => s.TraceId).Select(g => (IReadOnlyList<Span>)g.ToList());
    }

    /// <summary>
    /// Adds the `limit` latest-starting traces with a span matching <paramref name="where"/> to <paramref name="found"/>,
    /// with their start. Most recent means the latest trace start, not the latest matching span, so the start comes
    /// from the trace index; index rows starting after the slice cannot hold the first start of a trace matching in it.
    /// </summary>
    private async Task FindTraceStartsAsync(ClickHouseSchema schema, string tenant, string where, long sliceEnd, int limit, Dictionary<TraceId, long> found, CancellationToken cancellationToken)
    {
        var body = await QueryAsync(
            $"SELECT trace_id, min(start_min) AS trace_start FROM {schema.Table("trace_index")} " +
            $"WHERE tenant = {ClickHouseSql.Quote(tenant)} AND start_min <= {ClickHouseSql.Number(sliceEnd)} " +
            $"AND trace_id IN (SELECT trace_id FROM {schema.Table("spans")} WHERE {where}) " +
            $"GROUP BY trace_id ORDER BY trace_start DESC LIMIT {limit} FORMAT RowBinary",
            cancellationToken,
            DistributedSettings(schema));
        var reader = new RowBinaryReader(body);
        while (!reader.End)
        {
            var id = reader.TraceId();
            found[id] = (long)reader.UInt64();
        }
    }

    private static Dictionary<TraceId, TraceRange> ReadIndex(byte[] body)
    {
        var ranges = new Dictionary<TraceId, TraceRange>();
        var reader = new RowBinaryReader(body);
        while (!reader.End)
        {
            var id = reader.TraceId();
            var min = reader.UInt64();
            var max = reader.UInt64();
            if (!ranges.TryGetValue(id, out var range))
            {
                range = new TraceRange(min, max);
                ranges.Add(id, range);
            }

            range.Min = Math.Min(range.Min, min);
            range.Max = Math.Max(range.Max, max);
            var services = new string[reader.ArrayLength()];
            for (var i = 0; i < services.Length; i++)
            {
                services[i] = reader.String();
            }

            reader.ArrayLength();
            foreach (var service in services)
            {
                range.Operations.Add((service, reader.String()));
            }
        }

        return ranges;
    }

    private static List<Span> ReadSpans(byte[] body)
    {
        var spans = new List<Span>();
        var reader = new RowBinaryReader(body);
        while (!reader.End)
        {
            spans.Add(SpanRows.Read(ref reader));
        }

        return spans;
    }

    private sealed class TraceRange(ulong min, ulong max)
    {
        public ulong Min { get; set; } = min;

        public ulong Max { get; set; } = max;

        public HashSet<(string Service, string Name)> Operations { get; } = [];

        public string ToSql() =>
            $"(start_ns >= {ClickHouseSql.Number(Min)} AND start_ns <= {ClickHouseSql.Number(Max)} AND (" +
            string.Join(" OR ", Operations.Select(o => $"(service = {ClickHouseSql.Quote(o.Service)} AND name = {ClickHouseSql.Quote(o.Name)})")) + "))";
    }

    private sealed record PendingAppend(string Tenant, IReadOnlyList<Span> Spans, TaskCompletionSource Done);
}
