using Ariadne.Model;
using Ariadne.Pipeline.Log;
using Ariadne.Storage.Embedded.Blocks;

namespace Ariadne.Storage.Embedded;

/// <summary>Compaction: small blocks of one tenant merged into bigger ones, their rows in time order.</summary>
public sealed partial class EmbeddedSpanStore
{
    /// <summary>
    /// Merges small blocks of the same tenant into bigger ones: a k-way merge in block order (a trace's first span, then
    /// its id) that streams row groups, brings the spans of a trace together and drops resent copies of a span. The
    /// output is split by <see cref="EmbeddedStorageOptions.CompactionWindow"/>: blocks that straddle windows (a
    /// backfill, late spans, a replay) come out as one block per window, so every arrival pattern converges to
    /// compacted blocks that retention can drop whole. Rounds run until nothing is left to merge; returns the number
    /// of merges.
    /// </summary>
    public async Task<int> CompactAsync(IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        await _maintenanceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var done = 0;
            for (var round = 0; round < MaxCompactionRounds; round++)
            {
                var plans = PlanCompactions();
                if (plans.Count == 0)
                {
                    break;
                }

                for (var i = 0; i < plans.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await Task.Run(() => Compact(plans[i]), cancellationToken).ConfigureAwait(false);
                    done++;
                    progress?.Report((round + (double)(i + 1) / plans.Count) / MaxCompactionRounds);
                }
            }

            progress?.Report(1);
            return done;
        }
        finally
        {
            _maintenanceLock.Release();
        }
    }

    /// <summary>A block straddling windows is split in one round and its parts merged with their neighbours in the next.</summary>
    private const int MaxCompactionRounds = 4;

    private long WindowOf(long startUnixNano) => Math.DivRem(startUnixNano, Math.Max(1, _options.CompactionWindow.Ticks * 100), out _);

    /// <summary>
    /// Plans merges of the small blocks of each tenant, window by window (oldest first): the blocks whose time range
    /// overlaps the window, as many as fit under <see cref="EmbeddedStorageOptions.CompactionTargetSpans"/>, each block
    /// in one plan of the round. A block alone in its window is left as it is.
    /// </summary>
    private List<List<Block>> PlanCompactions()
    {
        var plans = new List<List<Block>>();
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
                var small = blocks.Where(b => b.Meta.SpanCount < _options.CompactionTargetSpans / 2
                        && (b.Meta.LogThrough is not { } through || LogPosition.Parse(through) <= checkpoint))
                    .OrderBy(b => b.Meta.MinStartUnixNano).ToList();
                var planned = new HashSet<Block>(ReferenceEqualityComparer.Instance);
                var windows = small.Select(b => WindowOf(b.Meta.MinStartUnixNano)).Distinct().ToList();
                foreach (var window in windows)
                {
                    var plan = new List<Block>();
                    long spans = 0;
                    foreach (var block in small)
                    {
                        if (planned.Contains(block) || WindowOf(block.Meta.MinStartUnixNano) > window || WindowOf(block.Meta.MaxStartUnixNano) < window)
                        {
                            continue;
                        }

                        if (plan.Count > 0 && spans + block.Meta.SpanCount > _options.CompactionTargetSpans)
                        {
                            break;
                        }

                        plan.Add(block);
                        spans += block.Meta.SpanCount;
                    }

                    if (plan.Count >= 2 && plan.All(b => b.TryAcquire()))
                    {
                        plans.Add(plan);
                        planned.UnionWith(plan);
                    }
                }
            }
        }

        return plans;
    }

    private void Compact(List<Block> sources)
    {
        var tenant = sources[0].Meta.Tenant;
        var tenantDirectory = Path.Combine(BlocksDirectory, TenantDirectoryName(tenant));
        // Sources name every block merged into these, the sources' own sources too: a source whose delete failed is
        // removed at the next start even after its outputs have been compacted again.
        var sourceIds = sources.SelectMany(b => b.Meta.Sources.Append(b.Id)).Distinct(StringComparer.Ordinal).ToList();
        var level = sources.Max(b => b.Meta.CompactionLevel) + 1;
        var outputs = new List<BlockWriter>();
        var writing = new Dictionary<long, BlockWriter>();
        try
        {
            var cursors = sources.Select(b => new MergeCursor(b)).Where(c => c.HasCurrent).ToList();
            try
            {
                while (cursors.Count > 0)
                {
                    var first = cursors[0];
                    foreach (var cursor in cursors)
                    {
                        if (cursor.CompareTo(first) < 0)
                        {
                            first = cursor;
                        }
                    }

                    var (traceId, spans) = first.Take();
                    // The trace's other parts (spans of one trace cut into two blocks) are near it in time, so in the
                    // row group each other source is reading now: joined here, the trace stays one run of rows.
                    foreach (var cursor in cursors)
                    {
                        cursor.TakeAlso(traceId, spans);
                    }

                    cursors.RemoveAll(c =>
                    {
                        if (c.HasCurrent)
                        {
                            return false;
                        }

                        c.Dispose();
                        return true;
                    });
                    var trace = Deduplicate(spans);
                    var window = WindowOf(trace[0].StartTimeUnixNano);
                    if (!writing.TryGetValue(window, out var output) || output.SpanCount >= _options.CompactionTargetSpans)
                    {
                        output = new BlockWriter(tenantDirectory, tenant, _options, _time, _files, level, sourceIds);
                        outputs.Add(output);
                        writing[window] = output;
                    }

                    output.AddTrace(traceId, trace);
                }
            }
            finally
            {
                foreach (var cursor in cursors)
                {
                    cursor.Dispose();
                }
            }

            foreach (var output in outputs)
            {
                output.Seal();
            }

            // The outputs appear one rename at a time: until the journal is gone, the next start deletes those that
            // appeared and keeps the sources.
            var journal = Path.Combine(tenantDirectory, outputs[0].Id + CompactionJournalSuffix);
            DurableFiles.Replace(_files, journal, System.Text.Encoding.UTF8.GetBytes(string.Join('\n', outputs.Select(o => o.Id)) + "\n"));
            var metas = outputs.Select(o => o.Publish()).ToList();
            _files.SyncDirectory(tenantDirectory);
            _files.DeleteFile(journal);
            var compacted = outputs.Select(o => Block.Open(o.Directory, verifyData: false)).ToList();
            lock (_blocksLock)
            {
                var blocks = _blocks[tenant];
                blocks.RemoveAll(sources.Contains);
                blocks.AddRange(compacted);
            }

            var durable = TrySyncDirectory(tenantDirectory);
            foreach (var source in sources)
            {
                if (durable)
                {
                    source.RetireAndDelete(_files);
                }
                else
                {
                    // Out of the list but kept on disk: a power loss could bring the journal back, and with it the
                    // deletion of the outputs. The next start deletes them, as sources the outputs list.
                    source.Release();
                }
            }

            LogCompacted(_logger, sources.Count, tenant, metas.Count, string.Join(", ", metas.Select(m => m.Id)), metas.Sum(m => m.SpanCount),
                sources.Sum(b => b.Meta.SpanCount) - metas.Sum(m => m.SpanCount));
        }
        catch (BlockCorruptedException e)
        {
            Quarantine(e.Block, e.InnerException?.Message ?? e.Message);
        }
        finally
        {
            foreach (var output in outputs)
            {
                output.Dispose();
            }

            foreach (var source in sources)
            {
                source.Release();
            }
        }
    }

    /// <summary>
    /// A compaction's journal in the tenant directory: the ids of its outputs, written before the first is published
    /// and deleted once all are. One left at start-up is a compaction that did not finish.
    /// </summary>
    private const string CompactionJournalSuffix = ".compacting";

    /// <summary>Deletes the outputs a compaction published before it stopped, and its journal; its sources stay.</summary>
    private void RollBackUnfinishedCompactions(string tenantDirectory)
    {
        foreach (var journal in Directory.EnumerateFiles(tenantDirectory, "*" + CompactionJournalSuffix))
        {
            foreach (var id in File.ReadAllLines(journal).Where(line => line.Length > 0))
            {
                var output = Path.Combine(tenantDirectory, Path.GetFileName(id));
                if (Directory.Exists(output))
                {
                    LogUnfinishedCompaction(_logger, output);
                    _files.DeleteDirectory(output);
                }
            }

            _files.DeleteFile(journal);
            _files.SyncDirectory(tenantDirectory);
        }
    }

    private bool TrySyncDirectory(string directory)
    {
        try
        {
            _files.SyncDirectory(directory);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCompactionSyncFailed(_logger, directory, e.Message);
            return false;
        }
    }

    /// <summary>
    /// One source of a merge: its row groups one at a time, each sorted in block order (a version 1 block's row groups
    /// are sorted by trace id, so each becomes a run of its own), and the traces of the current one by id.
    /// </summary>
    private sealed class MergeCursor(Block block) : IDisposable
    {
        private readonly IEnumerator<List<(TraceId TraceId, List<Span> Spans)>> _rowGroups = block.ReadRowGroups().GetEnumerator();
        private readonly Dictionary<TraceId, int> _positions = [];
        private List<(TraceId TraceId, List<Span> Spans)> _current = [];
        private bool[] _taken = [];
        private int _next = -1;

        public bool HasCurrent
        {
            get
            {
                if (_next < 0)
                {
                    _next = 0;
                    Skip();
                }

                return _next < _current.Count;
            }
        }

        public int CompareTo(MergeCursor other) => BlockOrder.Compare(Head, other.Head);

        public (TraceId TraceId, List<Span> Spans) Take()
        {
            var head = _current[_next];
            _taken[_next] = true;
            _positions.Remove(head.TraceId);
            Skip();
            return (head.TraceId, new List<Span>(head.Spans));
        }

        /// <summary>Adds the spans of <paramref name="traceId"/> from the current row group, if it holds them.</summary>
        public void TakeAlso(TraceId traceId, List<Span> spans)
        {
            if (_positions.Remove(traceId, out var position))
            {
                spans.AddRange(_current[position].Spans);
                _taken[position] = true;
                Skip();
            }
        }

        public void Dispose() => _rowGroups.Dispose();

        private (TraceId TraceId, List<Span> Spans) Head => _current[_next];

        /// <summary>Moves to the next trace not taken yet, reading the next row group when this one is done.</summary>
        private void Skip()
        {
            while (true)
            {
                while (_next < _current.Count && _taken[_next])
                {
                    _next++;
                }

                if (_next < _current.Count || !_rowGroups.MoveNext())
                {
                    return;
                }

                _current = _rowGroups.Current;
                _current.Sort(BlockOrder.Compare);
                _taken = new bool[_current.Count];
                _next = 0;
                _positions.Clear();
                for (var i = 0; i < _current.Count; i++)
                {
                    _positions.TryAdd(_current[i].TraceId, i);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing block {Directory}, written by a compaction that did not finish (its source blocks are kept).")]
    private static partial void LogUnfinishedCompaction(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Compaction wrote its blocks in {Directory} but could not fsync the directory ({Reason}); its source blocks stay on disk until the next start deletes them. Check the disk.")]
    private static partial void LogCompactionSyncFailed(ILogger logger, string directory, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compacted {Count} blocks of tenant {Tenant} into {Outputs} ({BlockIds}): {Spans} spans, {Duplicates} duplicates dropped.")]
    private static partial void LogCompacted(ILogger logger, int count, string tenant, int outputs, string blockIds, long spans, long duplicates);
}
