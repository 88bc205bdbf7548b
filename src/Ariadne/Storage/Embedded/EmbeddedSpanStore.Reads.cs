using Ariadne.Model;
using Ariadne.Storage.Embedded.Blocks;

namespace Ariadne.Storage.Embedded;

/// <summary>The read side: trace by id, search, services and operations, dependencies, figures; the head and the blocks together.</summary>
public sealed partial class EmbeddedSpanStore
{
    public ValueTask<IReadOnlyList<Span>> GetTraceAsync(string tenant, TraceId traceId, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<Span>>(GetTrace(tenant, traceId));

    public ValueTask<IReadOnlyList<string>> GetServicesAsync(string tenant, CancellationToken cancellationToken)
    {
        var services = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var head in HeadsOf(tenant))
        {
            lock (_ingestLock)
            {
                services.UnionWith(head.Operations.Keys);
            }
        }

        foreach (var block in BlocksOf(tenant))
        {
            services.UnionWith(block.Meta.Services.Keys);
        }

        return ValueTask.FromResult<IReadOnlyList<string>>(services.ToList());
    }

    public ValueTask<IReadOnlyList<OperationInfo>> GetOperationsAsync(string tenant, string service, SpanKind? kind, CancellationToken cancellationToken)
    {
        var operations = new HashSet<OperationInfo>();
        foreach (var head in HeadsOf(tenant))
        {
            lock (_ingestLock)
            {
                if (head.Operations.TryGetValue(service, out var ops))
                {
                    operations.UnionWith(ops);
                }
            }
        }

        foreach (var block in BlocksOf(tenant))
        {
            if (block.Meta.Services.TryGetValue(service, out var ops))
            {
                operations.UnionWith(ops);
            }
        }

        var result = operations.Where(o => kind is null || o.Kind == kind)
            .OrderBy(o => o.Name, StringComparer.Ordinal).ThenBy(o => o.Kind).ToList();
        return ValueTask.FromResult<IReadOnlyList<OperationInfo>>(result);
    }

    public ValueTask<IReadOnlyList<IReadOnlyList<Span>>> FindTracesAsync(string tenant, TraceQuery query, CancellationToken cancellationToken)
    {
        var plan = new SearchPlan(query);
        var results = new SearchResults(Math.Max(1, query.Limit));
        var (heads, blocks) = AcquireView(tenant);
        try
        {
            foreach (var (traceId, trace) in HeadTraces(heads))
            {
                foreach (var span in trace)
                {
                    if (SpanMatcher.Matches(span, query))
                    {
                        results.Add(traceId, span.StartTimeUnixNano);
                    }
                }
            }

            foreach (var block in blocks.OrderByDescending(b => b.Meta.MaxStartUnixNano))
            {
                // Blocks come newest first: once the limit is reached by results newer than this block's newest
                // span, no older block can change the answer.
                results.Settle();
                if (results.Threshold is { } threshold && block.Meta.MaxStartUnixNano < threshold)
                {
                    break;
                }

                ReadBlock(block, () => block.Search(plan, results, cancellationToken));
            }

            // Whole traces only for the answer, through the bloom filters and row-group trace filters; each block reads
            // a row group once for every answer trace in it.
            var found = results.Newest().ToHashSet();
            var fromBlocks = new List<Span>[blocks.Count];
            Parallel.For(0, blocks.Count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
                i => ReadBlock(blocks[i], () => fromBlocks[i] = blocks[i].GetTraces(found)));
            var byTrace = found.ToDictionary(id => id, _ => new List<Span>());
            foreach (var head in heads)
            {
                lock (_ingestLock)
                {
                    foreach (var id in found)
                    {
                        if (head.Traces.TryGetValue(id, out var trace))
                        {
                            byTrace[id].AddRange(trace);
                        }
                    }
                }
            }

            foreach (var span in fromBlocks.Where(spans => spans is not null).SelectMany(spans => spans))
            {
                byTrace[span.TraceId].Add(span);
            }

            var result = byTrace.Values.Where(t => t.Count > 0)
                .Select(Deduplicate)
                .OrderByDescending(t => t[0].StartTimeUnixNano)
                .Select(t => (IReadOnlyList<Span>)t)
                .ToList();
            return ValueTask.FromResult<IReadOnlyList<IReadOnlyList<Span>>>(result);
        }
        finally
        {
            ReleaseBlocks(blocks);
        }
    }

    public ValueTask<IReadOnlyList<DependencyLink>> GetDependenciesAsync(string tenant, DateTimeOffset endTime, TimeSpan lookback, CancellationToken cancellationToken)
    {
        var fromSeconds = (endTime - lookback).ToUnixTimeSeconds();
        var toSeconds = endTime.ToUnixTimeSeconds();
        var edges = new Dictionary<(string Parent, string Child), (long Calls, long Errors)>();
        _aggregates.AddEdgesTo(tenant, edges, fromSeconds, toSeconds);
        var calculator = DependencyCalculator.ForWindow(endTime, lookback);
        var (heads, blocks) = AcquireView(tenant);
        try
        {
            foreach (var block in blocks)
            {
                block.Aggregates.AddEdgesTo(edges, fromSeconds, toSeconds);
            }

            foreach (var (_, trace) in HeadTraces(heads))
            {
                calculator.AddTrace(trace);
            }
        }
        finally
        {
            ReleaseBlocks(blocks);
        }

        foreach (var link in calculator.ToLinks())
        {
            edges.TryGetValue((link.Parent, link.Child), out var current);
            edges[(link.Parent, link.Child)] = (current.Calls + link.CallCount, current.Errors + link.ErrorCount);
        }

        return ValueTask.FromResult<IReadOnlyList<DependencyLink>>(DependencyLink.Sorted(edges));
    }

    public StorageStats GetStats()
    {
        long spans = 0, traces = 0, bytes = 0;
        // Both locks at once (in the cut's order): a tenant of a cut moves from the head to a block in one step
        // (WriteHead), so a count never sees it in both or in neither.
        lock (_ingestLock)
        {
            var heads = _head.Tenants.Values.Concat(_flushing?.Tenants.Where(t => !_flushedTenants.Contains(t.Key)).Select(t => t.Value) ?? []);
            foreach (var tenant in heads)
            {
                traces += tenant.Traces.Count;
                spans += tenant.SpanCount;
            }

            lock (_blocksLock)
            {
                foreach (var block in _blocks.Values.SelectMany(b => b))
                {
                    spans += block.Meta.SpanCount;
                    traces += block.Meta.TraceCount;
                    bytes += block.DiskBytes;
                }
            }
        }

        return new StorageStats(spans, traces, bytes);
    }

    private List<Span> GetTrace(string tenant, TraceId traceId)
    {
        var (heads, blocks) = AcquireView(tenant);
        try
        {
            var spans = new List<Span>();
            foreach (var head in heads)
            {
                lock (_ingestLock)
                {
                    if (head.Traces.TryGetValue(traceId, out var trace))
                    {
                        spans.AddRange(trace);
                    }
                }
            }

            foreach (var block in blocks)
            {
                ReadBlock(block, () => spans.AddRange(block.GetTrace(traceId)));
            }

            return spans.Count == 0 ? spans : Deduplicate(spans);
        }
        finally
        {
            ReleaseBlocks(blocks);
        }
    }

    /// <summary>
    /// The tenant's heads and its blocks (acquired: release them), taken in one step. A cut moves a tenant's spans from
    /// the head being cut to a new block in one step under the ingest lock; heads and blocks taken apart could fall on
    /// either side of it and miss those spans.
    /// </summary>
    private (List<TenantHead> Heads, List<Block> Blocks) AcquireView(string tenant)
    {
        lock (_ingestLock)
        {
            return (HeadsOf(tenant), AcquireBlocks(tenant));
        }
    }

    private List<TenantHead> HeadsOf(string tenant)
    {
        var result = new List<TenantHead>(2);
        lock (_ingestLock)
        {
            if (_head.Tenants.TryGetValue(tenant, out var head))
            {
                result.Add(head);
            }

            if (_flushing is not null && _flushing.Tenants.TryGetValue(tenant, out var flushing) && !_flushedTenants.Contains(tenant))
            {
                result.Add(flushing);
            }
        }

        return result;
    }

    /// <summary>
    /// The tenant's traces in memory, copied under the ingest lock and read after it: matching a search against a
    /// full head under the lock would hold every ingest batch for as long as the scan takes.
    /// </summary>
    private List<(TraceId TraceId, Span[] Spans)> HeadTraces(List<TenantHead> heads)
    {
        var traces = new List<(TraceId, Span[])>();
        foreach (var head in heads)
        {
            lock (_ingestLock)
            {
                traces.EnsureCapacity(traces.Count + head.Traces.Count);
                foreach (var (traceId, trace) in head.Traces)
                {
                    traces.Add((traceId, trace.ToArray()));
                }
            }
        }

        return traces;
    }
}
