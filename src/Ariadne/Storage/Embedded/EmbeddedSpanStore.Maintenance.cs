namespace Ariadne.Storage.Embedded;

/// <summary>The background loop: cutting the head by age, compaction and retention, on the injected clock.</summary>
public sealed partial class EmbeddedSpanStore
{
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage maintenance failed ({Reason}); it is retried on the next round.")]
    private static partial void LogMaintenanceFailed(ILogger logger, string reason, Exception exception);
}
