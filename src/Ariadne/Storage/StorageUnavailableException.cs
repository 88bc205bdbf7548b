namespace Ariadne.Storage;

/// <summary>
/// Storage cannot take writes right now (disk full, I/O error) but may later: receivers answer HTTP 503 /
/// gRPC Unavailable so clients retry. Nothing was corrupted; spans not acknowledged may simply be sent again.
/// </summary>
public sealed class StorageUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The Retry-After every receiver sends with its 503: long enough for a group commit or a drain to catch up.</summary>
    public const int RetryAfterSeconds = 5;
}
