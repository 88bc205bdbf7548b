using Ariadne.Pipeline.Log;
using Ariadne.Storage.Embedded.Blocks;

namespace Ariadne.Storage.Embedded;

/// <summary>The blocks on disk: loading them at start-up, lending them to readers, quarantining damaged ones.</summary>
public sealed partial class EmbeddedSpanStore
{
    public int BlockCount
    {
        get
        {
            lock (_blocksLock)
            {
                return _blocks.Values.Sum(b => b.Count);
            }
        }
    }

    /// <summary>The blocks of every tenant, for `ariadne storage list`.</summary>
    public IReadOnlyList<BlockMeta> ListBlocks()
    {
        lock (_blocksLock)
        {
            return _blocks.Values.SelectMany(b => b).Select(b => b.Meta).OrderBy(m => m.Tenant, StringComparer.Ordinal)
                .ThenBy(m => m.MinStartUnixNano).ToList();
        }
    }

    private List<Block> BlocksOf(string tenant)
    {
        lock (_blocksLock)
        {
            return _blocks.TryGetValue(tenant, out var blocks) ? [.. blocks] : [];
        }
    }

    private List<Block> AcquireBlocks(string tenant)
    {
        lock (_blocksLock)
        {
            if (!_blocks.TryGetValue(tenant, out var blocks))
            {
                return [];
            }

            var acquired = new List<Block>(blocks.Count);
            foreach (var block in blocks)
            {
                if (block.TryAcquire())
                {
                    acquired.Add(block);
                }
            }

            return acquired;
        }
    }

    private static void ReleaseBlocks(List<Block> blocks)
    {
        foreach (var block in blocks)
        {
            block.Release();
        }
    }

    private void AddBlock(Block block)
    {
        lock (_blocksLock)
        {
            if (!_blocks.TryGetValue(block.Meta.Tenant, out var blocks))
            {
                blocks = [];
                _blocks.Add(block.Meta.Tenant, blocks);
            }

            blocks.Add(block);
        }
    }

    /// <summary>Runs a read against a block; a damaged block is quarantined and the query goes on without it.</summary>
    private void ReadBlock(Block block, Action read)
    {
        try
        {
            read();
        }
        catch (BlockCorruptedException e)
        {
            Quarantine(block, e.InnerException?.Message ?? e.Message);
        }
    }

    private void Quarantine(Block block, string reason)
    {
        lock (_blocksLock)
        {
            if (!_blocks.TryGetValue(block.Meta.Tenant, out var blocks) || !blocks.Remove(block))
            {
                return;
            }
        }

        block.Release();
        try
        {
            var target = MoveToQuarantine(block.Directory);
            LogQuarantined(_logger, block.Id, block.Meta.Tenant, reason, target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Out of the list, so no longer served; the next start checks it again and quarantines it then.
            LogQuarantineFailed(_logger, block.Id, block.Meta.Tenant, reason, e.Message);
        }
    }

    private string MoveToQuarantine(string blockDirectory)
    {
        var target = Path.Combine(_directory, "quarantine", Path.GetFileName(Path.GetDirectoryName(blockDirectory))!,
            Path.GetFileName(blockDirectory) + "-" + _time.GetUtcNow().ToUnixTimeSeconds());
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        _files.MoveDirectory(blockDirectory, target);
        return target;
    }

    private void LoadBlocks()
    {
        if (!Directory.Exists(BlocksDirectory))
        {
            return;
        }

        var absorbed = _aggregates.AbsorbedBlockIds();
        var loaded = new List<Block>();
        foreach (var tenantDirectory in Directory.EnumerateDirectories(BlocksDirectory))
        {
            RollBackUnfinishedCompactions(tenantDirectory);
            foreach (var blockDirectory in Directory.EnumerateDirectories(tenantDirectory))
            {
                var name = Path.GetFileName(blockDirectory);
                if (name.EndsWith(".tmp", StringComparison.Ordinal) || !File.Exists(Path.Combine(blockDirectory, BlockMeta.FileName)))
                {
                    LogUnfinishedBlock(_logger, blockDirectory);
                    _files.DeleteDirectory(blockDirectory);
                    continue;
                }

                Block block;
                try
                {
                    block = Block.Open(blockDirectory, verifyData: true);
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    var target = MoveToQuarantine(blockDirectory);
                    LogQuarantined(_logger, name, Path.GetFileName(tenantDirectory), e.Message, target);
                    continue;
                }

                if (absorbed.Contains(name))
                {
                    // Retention stopped between the day files and the delete, maybe between two day files: absorbing
                    // again completes the days that lack it (a day that has it is skipped), then the block goes.
                    _aggregates.Absorb(block.Meta.Tenant, block.Id, block.Aggregates, _time.GetUtcNow(), _options.MinuteAggregatesFor);
                    block.Release();
                    _files.DeleteDirectory(blockDirectory);
                    continue;
                }

                if (block.Meta.LogThrough is { } through && LogPosition.Parse(through) > _durableThrough)
                {
                    LogUnfinishedCut(_logger, blockDirectory, through, _durableThrough.ToString());
                    block.Release();
                    RemoveUnfinishedCut(blockDirectory);
                    continue;
                }

                loaded.Add(block);
            }
        }

        // A compacted block lists its sources; any still here are leftovers of a compaction that finished.
        var replaced = loaded.SelectMany(b => b.Meta.Sources).ToHashSet(StringComparer.Ordinal);
        foreach (var block in loaded)
        {
            if (replaced.Contains(block.Id))
            {
                block.RetireAndDelete(_files);
            }
            else
            {
                AddBlock(block);
            }
        }
    }

    /// <summary>
    /// Its spans are about to be taken again from the log: if it stayed, a later checkpoint would pass its
    /// <c>logThrough</c> and it would be served next to the new block holding the same spans. Better not to start.
    /// </summary>
    private void RemoveUnfinishedCut(string blockDirectory)
    {
        try
        {
            _files.DeleteDirectory(blockDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageFormatException(
                $"Block {blockDirectory} is from a head cut that did not finish and could not be removed ({e.Message}); delete that directory (its spans are still in the ingest log), then start again.");
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Block {BlockId} of tenant {Tenant} is damaged ({Reason}) and could not be moved to quarantine ({Error}); it is no longer served, and the next start tries again. Check the data directory's permissions and disk.")]
    private static partial void LogQuarantineFailed(ILogger logger, string blockId, string tenant, string reason, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Block {BlockId} of tenant {Tenant} is damaged ({Reason}); moved to {Target}. The other blocks keep serving; inspect or delete the quarantined copy.")]
    private static partial void LogQuarantined(ILogger logger, string blockId, string tenant, string reason, string target);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing block {Directory} of a head cut that did not finish (it covers the log up to {Through}, the checkpoint is {Checkpoint}); its spans are taken again from the ingest log.")]
    private static partial void LogUnfinishedCut(ILogger logger, string directory, string through, string checkpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing unfinished block write {Directory} (the process stopped while writing it; its spans are still in the ingest log or its source blocks).")]
    private static partial void LogUnfinishedBlock(ILogger logger, string directory);
}
