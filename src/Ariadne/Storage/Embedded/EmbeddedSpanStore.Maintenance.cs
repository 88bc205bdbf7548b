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
                // A cut by size may be running: the first await only waits for it, and the second cuts what is still old.
                for (var attempt = 0; attempt < 2 && HeadIsOld(); attempt++)
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

    private bool HeadIsOld()
    {
        lock (_ingestLock)
        {
            return _head.SpanCount > 0 && _time.GetElapsedTime(_head.OpenedAtTimestamp) >= _options.HeadMaxAge;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage maintenance failed ({Reason}); it is retried on the next round.")]
    private static partial void LogMaintenanceFailed(ILogger logger, string reason, Exception exception);
}
