using Ariadne.Model;
using Ariadne.Pipeline.Log;
using Ariadne.Storage.Embedded.Blocks;

namespace Ariadne.Storage.Embedded;

/// <summary>Compaction: small blocks of one tenant and time window merged into bigger ones.</summary>
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

    private List<List<Block>> PlanCompactions()
    {
        var plans = new List<List<Block>>();
        var window = Math.Max(1, _options.CompactionWindow.Ticks * 100);
        LogPosition checkpoint;
        lock (_ingestLock)
        {
            checkpoint = _durableThrough;
        }

        lock (_blocksLock)
        {
            foreach (var blocks in _blocks.Values)
            {
                // Only blocks under half the target merge, so a block is rewritten a bounded number of times. A block
                // of a cut whose checkpoint is not written yet stays out: a crash now removes it at start and takes its
                // spans from the log again, which a merged copy, with no logThrough of its own, would then duplicate.
                var groups = blocks.Where(b => b.Meta.SpanCount < _options.CompactionTargetSpans / 2
                        && (b.Meta.LogThrough is not { } through || LogPosition.Parse(through) <= checkpoint))
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
            // Sources name every block merged into this one, the sources' own sources too: a source whose delete failed
            // is removed at the next start even after this block has been compacted again.
            using var writer = new BlockWriter(tenantDirectory, tenant, sources.Sum(b => b.Meta.TraceCount), _options, _time, _files,
                sources.Max(b => b.Meta.CompactionLevel) + 1, sources.SelectMany(b => b.Meta.Sources.Append(b.Id)).Distinct(StringComparer.Ordinal).ToList());
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

            var durable = TrySyncName(writer);
            foreach (var source in sources)
            {
                if (durable)
                {
                    source.RetireAndDelete(_files);
                }
                else
                {
                    // Out of the list but kept on disk: a power loss could take the new block's name back. The next
                    // start deletes them, as sources the new block lists.
                    source.Release();
                }
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

    private bool TrySyncName(BlockWriter writer)
    {
        try
        {
            writer.SyncName();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCompactionSyncFailed(_logger, writer.Directory, e.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Compaction wrote {Directory} but could not fsync its directory ({Reason}); its source blocks stay on disk until the next start deletes them. Check the disk.")]
    private static partial void LogCompactionSyncFailed(ILogger logger, string directory, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compacted {Count} blocks of tenant {Tenant} into {BlockId}: {Spans} spans, {Duplicates} duplicates dropped.")]
    private static partial void LogCompacted(ILogger logger, int count, string tenant, string blockId, long spans, long duplicates);
}
