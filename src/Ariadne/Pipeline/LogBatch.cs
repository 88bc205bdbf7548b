using Ariadne.Model;

namespace Ariadne.Pipeline;

/// <summary>
/// What a receiver decoded from one logs request: the valid records, and how many it rejected and why (reported
/// back to OTLP clients as partial success, as for spans).
/// </summary>
public sealed class LogBatch
{
    public List<LogRecord> Records { get; } = [];

    public int RejectedRecords { get; private set; }

    public string? RejectionMessage { get; private set; }

    public void Reject(string reason, int count = 1)
    {
        RejectedRecords += count;
        RejectionMessage ??= reason;
    }
}
