namespace Ariadne.Logs;

/// <summary>
/// Settings of log record storage (<c>Logs:*</c> keys). Log records are kept as long as spans
/// (<c>Embedded:DetailedRetention</c>), so a trace and its logs expire together.
/// </summary>
public sealed class LogOptions
{
    /// <summary>The memory engine keeps at most this many log records (all tenants), evicting the oldest traces' records.</summary>
    public int MemoryMaxRecords { get; set; } = 200_000;

    /// <summary>The embedded engine starts a new log segment file after this many bytes.</summary>
    public long SegmentBytes { get; set; } = 16 * 1024 * 1024;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MemoryMaxRecords < 1)
        {
            errors.Add($"Logs:MemoryMaxRecords: {MemoryMaxRecords} must be at least 1 (default 200000).");
        }

        if (SegmentBytes < 64 * 1024)
        {
            errors.Add($"Logs:SegmentBytes: {SegmentBytes} must be at least 65536 (default 16777216).");
        }

        return errors;
    }
}
