using Ariadne.Model;

namespace Ariadne.Storage.Memory;

/// <summary>
/// Log records in memory, bounded: past <c>maxRecords</c> (all tenants together) the traces whose records arrived
/// first are evicted whole, as the memory span store evicts whole traces.
/// </summary>
public sealed class MemoryLogStore(int maxRecords) : ILogStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Tenant, TraceId TraceId), List<LogRecord>> _traces = [];
    private readonly Queue<(string Tenant, TraceId TraceId)> _arrival = new();
    private long _count;

    public ValueTask AppendAsync(string tenant, IReadOnlyList<LogRecord> records, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            foreach (var record in records)
            {
                var key = (tenant, record.TraceId);
                if (!_traces.TryGetValue(key, out var list))
                {
                    list = [];
                    _traces.Add(key, list);
                    _arrival.Enqueue(key);
                }

                list.Add(record);
                _count++;
            }

            while (_count > maxRecords && _arrival.TryDequeue(out var oldest))
            {
                if (_traces.Remove(oldest, out var evicted))
                {
                    _count -= evicted.Count;
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<LogRecord>> GetTraceLogsAsync(string tenant, TraceId traceId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult<IReadOnlyList<LogRecord>>(
                _traces.TryGetValue((tenant, traceId), out var list) ? LogOrder.ByTime(list) : []);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
