using Ariadne.Model;
using Ariadne.Storage.Embedded.Blocks;

namespace Ariadne.Storage.Embedded;

/// <summary>Background work: cutting the head by age, compaction and retention, on the injected clock.</summary>
public sealed partial class EmbeddedSpanStore
{
    /// <summary>
    /// Merges small blocks of the same tenant and time window into bigger ones: a k-way merge by trace id that
    /// streams row groups, brings the spans of a trace together and drops duplicate (trace id, span id) rows.
    /// Returns the number of blocks written.
    /// </summary>
    public async Task<int> CompactAsync(IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var plans = PlanCompactions();
            var done = 0;
            foreach (var plan in plans)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await Task.Run(() => Compact(plan), cancellationToken).ConfigureAwait(false);
                done++;
                progress?.Report((double)done / plans.Count);
            }

            progress?.Report(1);
            return done;
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    /// <summary>
    /// Deletes blocks whose newest span is older than the detailed retention of their tenant (their aggregates
    /// move to the day files first), rolls per-minute aggregates up to hourly and deletes aggregates past their retention.
    /// </summary>
    public async Task<RetentionResult> ApplyRetentionAsync(CancellationToken cancellationToken = default)
    {
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            var expired = new List<Block>();
            lock (_blocksLock)
            {
                foreach (var (tenant, blocks) in _blocks)
                {
                    var cutoff = ToNanos(now - _options.DetailedRetentionOf(tenant));
                    expired.AddRange(blocks.Where(b => b.Meta.MaxStartUnixNano < cutoff));
                    blocks.RemoveAll(b => b.Meta.MaxStartUnixNano < cutoff);
                }
            }

            foreach (var block in expired)
            {
                _aggregates.Absorb(block.Meta.Tenant, block.Id, block.Aggregates, now, _options.MinuteAggregatesFor);
                block.RetireAndDelete();
                LogBlockExpired(_logger, block.Id, block.Meta.Tenant, block.Meta.SpanCount);
            }

            var (rolledUp, deleted) = _aggregates.Maintain(now, _options.MinuteAggregatesFor, _options.AggregateRetention);
            return new RetentionResult(expired.Count, expired.Sum(b => b.Meta.SpanCount), rolledUp, deleted);
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    private List<List<Block>> PlanCompactions()
    {
        var plans = new List<List<Block>>();
        var window = Math.Max(1, _options.CompactionWindow.Ticks * 100);
        lock (_blocksLock)
        {
            foreach (var blocks in _blocks.Values)
            {
                // Only blocks under half the target merge, so a block is rewritten a bounded number of times.
                var groups = blocks.Where(b => b.Meta.SpanCount < _options.CompactionTargetSpans / 2)
                    .GroupBy(b => Math.DivRem(b.Meta.MaxStartUnixNano, window, out _));
                foreach (var group in groups)
                {
                    var plan = new List<Block>();
                    long spans = 0;
                    foreach (var block in group.OrderBy(b => b.Meta.MinStartUnixNano))
                    {
                        if (plan.Count > 0 && spans + block.Meta.SpanCount > _options.CompactionTargetSpans)
                        {
                            AddPlan(plans, plan);
                            plan = [];
                            spans = 0;
                        }

                        plan.Add(block);
                        spans += block.Meta.SpanCount;
                    }

                    AddPlan(plans, plan);
                }
            }
        }

        return plans;
    }

    private static void AddPlan(List<List<Block>> plans, List<Block> plan)
    {
        if (plan.Count >= 2 && plan.All(b => b.TryAcquire()))
        {
            plans.Add(plan);
        }
    }

    private void Compact(List<Block> sources)
    {
        var tenant = sources[0].Meta.Tenant;
        try
        {
            var tenantDirectory = Path.Combine(BlocksDirectory, TenantDirectoryName(tenant));
            using var writer = new BlockWriter(tenantDirectory, tenant, sources.Sum(b => b.Meta.TraceCount), _options, _time,
                sources.Max(b => b.Meta.CompactionLevel) + 1, sources.Select(b => b.Id).ToList());
            var cursors = sources.Select(b => b.ReadTraces().GetEnumerator()).Where(e => e.MoveNext()).ToList();
            try
            {
                while (cursors.Count > 0)
                {
                    var smallest = cursors[0].Current.TraceId;
                    foreach (var cursor in cursors)
                    {
                        if (cursor.Current.TraceId.CompareTo(smallest) < 0)
                        {
                            smallest = cursor.Current.TraceId;
                        }
                    }

                    var spans = new List<Span>();
                    for (var i = cursors.Count - 1; i >= 0; i--)
                    {
                        if (cursors[i].Current.TraceId == smallest)
                        {
                            spans.AddRange(cursors[i].Current.Spans);
                            if (!cursors[i].MoveNext())
                            {
                                cursors[i].Dispose();
                                cursors.RemoveAt(i);
                            }
                        }
                    }

                    writer.AddTrace(smallest, Deduplicate(spans));
                }
            }
            finally
            {
                foreach (var cursor in cursors)
                {
                    cursor.Dispose();
                }
            }

            var meta = writer.Complete();
            var compacted = Block.Open(writer.Directory, verifyData: false);
            lock (_blocksLock)
            {
                var blocks = _blocks[tenant];
                blocks.RemoveAll(sources.Contains);
                blocks.Add(compacted);
            }

            foreach (var source in sources)
            {
                source.RetireAndDelete();
            }

            LogCompacted(_logger, sources.Count, tenant, meta.Id, meta.SpanCount, sources.Sum(b => b.Meta.SpanCount) - meta.SpanCount);
        }
        catch (BlockCorruptedException e)
        {
            Quarantine(e.Block, e.InnerException?.Message ?? e.Message);
        }
        finally
        {
            foreach (var source in sources)
            {
                source.Release();
            }
        }
    }

    private async Task RunMaintenanceAsync(CancellationToken cancellationToken)
    {
        var lastCompaction = _time.GetTimestamp();
        var lastRetention = long.MinValue;
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
            try
            {
                int headSpans;
                long openedAt;
                lock (_ingestLock)
                {
                    headSpans = _head.SpanCount;
                    openedAt = _head.OpenedAtTimestamp;
                }

                if (headSpans > 0 && _time.GetElapsedTime(openedAt) >= _options.HeadMaxAge)
                {
                    await StartCut().ConfigureAwait(false);
                }

                if (_time.GetElapsedTime(lastCompaction) >= _options.CompactionInterval)
                {
                    await CompactAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    lastCompaction = _time.GetTimestamp();
                }

                if (lastRetention == long.MinValue || _time.GetElapsedTime(lastRetention) >= _options.RetentionInterval)
                {
                    await ApplyRetentionAsync(cancellationToken).ConfigureAwait(false);
                    lastRetention = _time.GetTimestamp();
                }
            }
            catch (IOException e)
            {
                LogMaintenanceFailed(_logger, e.Message, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Compacted {Count} blocks of tenant {Tenant} into {BlockId}: {Spans} spans, {Duplicates} duplicates dropped.")]
    private static partial void LogCompacted(ILogger logger, int count, string tenant, string blockId, long spans, long duplicates);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: deleted block {BlockId} of tenant {Tenant} ({Spans} spans); its aggregates are kept.")]
    private static partial void LogBlockExpired(ILogger logger, string blockId, string tenant, long spans);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage maintenance failed ({Reason}); it is retried on the next round.")]
    private static partial void LogMaintenanceFailed(ILogger logger, string reason, Exception exception);
}

public readonly record struct RetentionResult(int BlocksDeleted, long SpansDeleted, int AggregateDaysRolledUp, int AggregateDaysDeleted);
