using Ariadne.Model;

namespace Ariadne.Storage.Memory;

/// <summary>
/// Jaeger-style in-memory engine: traces kept per tenant, at most <c>maxTraces</c> per tenant, the oldest trace
/// (by first arrival) evicted first. One lock per tenant, taken once per batch, not per span.
/// </summary>
public sealed class MemorySpanStore(int maxTraces) : ISpanStore
{
    private readonly Dictionary<string, TenantData> _tenants = new(StringComparer.Ordinal);
    private readonly Lock _tenantsLock = new();

    public ValueTask AppendAsync(string tenant, IReadOnlyList<Span> spans, CancellationToken cancellationToken)
    {
        var data = GetOrAddTenant(tenant);
        lock (data.Lock)
        {
            foreach (var span in spans)
            {
                if (!data.Traces.TryGetValue(span.TraceId, out var trace))
                {
                    trace = [];
                    data.Traces.Add(span.TraceId, trace);
                    data.ArrivalOrder.Enqueue(span.TraceId);
                }

                trace.Add(span);
                data.SpanCount++;
                if (!data.Operations.TryGetValue(span.ServiceName, out var operations))
                {
                    operations = [];
                    data.Operations.Add(span.ServiceName, operations);
                }

                operations.Add(new OperationInfo(span.Name, span.Kind));
            }

            while (data.Traces.Count > maxTraces && data.ArrivalOrder.TryDequeue(out var oldest))
            {
                if (data.Traces.Remove(oldest, out var evicted))
                {
                    data.SpanCount -= evicted.Count;
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<Span>> GetTraceAsync(string tenant, TraceId traceId, CancellationToken cancellationToken)
    {
        if (TryGetTenant(tenant) is { } data)
        {
            lock (data.Lock)
            {
                if (data.Traces.TryGetValue(traceId, out var trace))
                {
                    return ValueTask.FromResult<IReadOnlyList<Span>>(trace.ToArray());
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<Span>>([]);
    }

    public ValueTask<IReadOnlyList<string>> GetServicesAsync(string tenant, CancellationToken cancellationToken)
    {
        if (TryGetTenant(tenant) is not { } data)
        {
            return ValueTask.FromResult<IReadOnlyList<string>>([]);
        }

        lock (data.Lock)
        {
            var services = data.Operations.Keys.ToList();
            services.Sort(StringComparer.Ordinal);
            return ValueTask.FromResult<IReadOnlyList<string>>(services);
        }
    }

    public ValueTask<IReadOnlyList<OperationInfo>> GetOperationsAsync(string tenant, string service, SpanKind? kind, CancellationToken cancellationToken)
    {
        if (TryGetTenant(tenant) is not { } data)
        {
            return ValueTask.FromResult<IReadOnlyList<OperationInfo>>([]);
        }

        lock (data.Lock)
        {
            if (!data.Operations.TryGetValue(service, out var operations))
            {
                return ValueTask.FromResult<IReadOnlyList<OperationInfo>>([]);
            }

            var result = operations.Where(o => kind is null || o.Kind == kind)
                .OrderBy(o => o.Name, StringComparer.Ordinal).ThenBy(o => o.Kind).ToList();
            return ValueTask.FromResult<IReadOnlyList<OperationInfo>>(result);
        }
    }

    public ValueTask<IReadOnlyList<IReadOnlyList<Span>>> FindTracesAsync(string tenant, TraceQuery query, CancellationToken cancellationToken)
    {
        if (TryGetTenant(tenant) is not { } data)
        {
            return ValueTask.FromResult<IReadOnlyList<IReadOnlyList<Span>>>([]);
        }

        var found = new List<(long Start, Span[] Trace)>();
        lock (data.Lock)
        {
            foreach (var trace in data.Traces.Values)
            {
                foreach (var span in trace)
                {
                    if (SpanMatcher.Matches(span, query))
                    {
                        found.Add((trace.Min(s => s.StartTimeUnixNano), trace.ToArray()));
                        break;
                    }
                }
            }
        }

        var result = found.OrderByDescending(f => f.Start).Take(query.Limit).Select(f => (IReadOnlyList<Span>)f.Trace).ToList();
        return ValueTask.FromResult<IReadOnlyList<IReadOnlyList<Span>>>(result);
    }

    public ValueTask<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken)
    {
        var calculator = DependencyCalculator.ForWindow(endTime, lookback);
        if (TryGetTenant(tenant) is { } data)
        {
            lock (data.Lock)
            {
                foreach (var trace in data.Traces.Values)
                {
                    calculator.AddTrace(trace);
                }
            }
        }

        return ValueTask.FromResult(calculator.ToLinks());
    }

    public StorageStats GetStats()
    {
        long spans = 0, traces = 0;
        lock (_tenantsLock)
        {
            foreach (var data in _tenants.Values)
            {
                lock (data.Lock)
                {
                    spans += data.SpanCount;
                    traces += data.Traces.Count;
                }
            }
        }

        return new StorageStats(spans, traces, 0);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private TenantData GetOrAddTenant(string tenant)
    {
        lock (_tenantsLock)
        {
            if (!_tenants.TryGetValue(tenant, out var data))
            {
                data = new TenantData();
                _tenants.Add(tenant, data);
            }

            return data;
        }
    }

    private TenantData? TryGetTenant(string tenant)
    {
        lock (_tenantsLock)
        {
            return _tenants.GetValueOrDefault(tenant);
        }
    }

    private sealed class TenantData
    {
        public Lock Lock { get; } = new();

        public Dictionary<TraceId, List<Span>> Traces { get; } = [];

        public Queue<TraceId> ArrivalOrder { get; } = new();

        public Dictionary<string, HashSet<OperationInfo>> Operations { get; } = new(StringComparer.Ordinal);

        public long SpanCount { get; set; }
    }
}
