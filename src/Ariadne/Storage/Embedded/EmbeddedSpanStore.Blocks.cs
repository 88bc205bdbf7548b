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

        var target = MoveToQuarantine(block.Directory);
        LogQuarantined(_logger, block.Id, block.Meta.Tenant, reason, target);
        block.Release();
    }

    private string MoveToQuarantine(string blockDirectory)
    {
        var target = Path.Combine(_directory, "quarantine", Path.GetFileName(Path.GetDirectoryName(blockDirectory))!,
            Path.GetFileName(blockDirectory) + "-" + _time.GetUtcNow().ToUnixTimeSeconds());
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        Directory.Move(blockDirectory, target);
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
            foreach (var blockDirectory in Directory.EnumerateDirectories(tenantDirectory))
            {
                var name = Path.GetFileName(blockDirectory);
                if (name.EndsWith(".tmp", StringComparison.Ordinal) || !File.Exists(Path.Combine(blockDirectory, BlockMeta.FileName)))
                {
                    LogUnfinishedBlock(_logger, blockDirectory);
                    Directory.Delete(blockDirectory, recursive: true);
                    continue;
                }

                if (absorbed.Contains(name))
                {
                    Directory.Delete(blockDirectory, recursive: true);
                    continue;
                }

                try
                {
                    var block = Block.Open(blockDirectory, verifyData: true);
                    if (block.Meta.LogThrough is { } through && LogPosition.Parse(through) > _durableThrough)
                    {
                        LogUnfinishedCut(_logger, blockDirectory, through, _durableThrough.ToString());
                        block.RetireAndDelete();
                        continue;
                    }

                    loaded.Add(block);
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                {
                    var target = MoveToQuarantine(blockDirectory);
                    LogQuarantined(_logger, name, Path.GetFileName(tenantDirectory), e.Message, target);
                }
            }
        }

        // A compacted block lists its sources; any still here are leftovers of a compaction that finished.
        var replaced = loaded.SelectMany(b => b.Meta.Sources).ToHashSet(StringComparer.Ordinal);
        foreach (var block in loaded)
        {
            if (replaced.Contains(block.Id))
            {
                block.RetireAndDelete();
            }
            else
            {
                AddBlock(block);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Block {BlockId} of tenant {Tenant} is damaged ({Reason}); moved to {Target}. The other blocks keep serving; inspect or delete the quarantined copy.")]
    private static partial void LogQuarantined(ILogger logger, string blockId, string tenant, string reason, string target);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing block {Directory} of a head cut that did not finish (it covers the log up to {Through}, the checkpoint is {Checkpoint}); its spans are taken again from the ingest log.")]
    private static partial void LogUnfinishedCut(ILogger logger, string directory, string through, string checkpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing unfinished block write {Directory} (the process stopped while writing it; its spans are still in the ingest log or its source blocks).")]
    private static partial void LogUnfinishedBlock(ILogger logger, string directory);
}
