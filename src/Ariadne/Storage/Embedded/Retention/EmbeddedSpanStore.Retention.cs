using Ariadne.Storage.Embedded.Blocks;

namespace Ariadne.Storage.Embedded;

/// <summary>Retention: whole blocks deleted past their tenant's detailed retention, their aggregates kept.</summary>
public sealed partial class EmbeddedSpanStore
{
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
                }
            }

            foreach (var block in expired)
            {
                // Out of the list only once its aggregates are on disk: a failed day file leaves the block served,
                // and the next round tries again (absorbing is idempotent per block and day).
                _aggregates.Absorb(block.Meta.Tenant, block.Id, block.Aggregates, now, _options.MinuteAggregatesFor);
                lock (_blocksLock)
                {
                    _blocks[block.Meta.Tenant].Remove(block);
                }

                block.RetireAndDelete(_files);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: deleted block {BlockId} of tenant {Tenant} ({Spans} spans); its aggregates are kept.")]
    private static partial void LogBlockExpired(ILogger logger, string blockId, string tenant, long spans);
}

public readonly record struct RetentionResult(int BlocksDeleted, long SpansDeleted, int AggregateDaysRolledUp, int AggregateDaysDeleted);
