using Ariadne.Model;
using Ariadne.Pipeline.Log;

namespace Ariadne.Storage.ClickHouse;

/// <summary>
/// OTLP log records in ClickHouse, next to the spans: one row per trace per request holding that trace's records
/// compressed together (<see cref="LogRecordCodec"/>, as the embedded engine stores them), ordered and sharded by
/// trace id, partitioned by day and dropped with the spans (<see cref="ClickHouseRetention"/>). An append returns
/// once ClickHouse has the rows; the trace view reads a trace's records by id.
/// </summary>
public sealed class ClickHouseLogStore(ClickHouseSpanStore store) : ILogStore
{
    public async ValueTask AppendAsync(string tenant, IReadOnlyList<LogRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return;
        }

        var schema = await store.InitializeAsync(cancellationToken);
        var writer = new RowBinaryWriter(64 * 1024);
        foreach (var trace in records.GroupBy(r => r.TraceId))
        {
            var group = trace.ToList();
            writer.String(tenant);
            writer.TraceId(trace.Key);
            writer.UInt64((ulong)Math.Max(0, group.Min(r => r.EffectiveTimeUnixNano)));
            writer.Bytes(LogRecordCodec.Encode(tenant, trace.Key, group));
        }

        await store.InsertAsync($"INSERT INTO {schema.Table("logs")} (tenant, trace_id, time_ns, records) FORMAT RowBinary", writer.WrittenMemory, schema.InsertSettings, cancellationToken);
    }

    public async ValueTask<IReadOnlyList<LogRecord>> GetTraceLogsAsync(string tenant, TraceId traceId, CancellationToken cancellationToken)
    {
        var schema = await store.InitializeAsync(cancellationToken);
        var body = await store.QueryAsync(
            $"SELECT records FROM {schema.Table("logs")} WHERE tenant = {ClickHouseSql.Quote(tenant)} AND trace_id = {ClickHouseSql.TraceId(traceId)} FORMAT RowBinary",
            cancellationToken);
        var records = new List<LogRecord>();
        var reader = new RowBinaryReader(body);
        while (!reader.End)
        {
            LogRecordCodec.Decode(reader.Bytes(), traceId, records);
        }

        return LogOrder.ByTime(records);
    }

    /// <summary>The span store owns the connections.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
