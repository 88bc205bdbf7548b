using Ariadne.Model;

namespace Ariadne.Pipeline;

/// <summary>
/// What a receiver decoded from one request: the valid spans, and how many it rejected and why
/// (reported back to OTLP clients as partial success).
/// </summary>
public sealed class SpanBatch
{
    public List<Span> Spans { get; } = [];

    public int RejectedSpans { get; private set; }

    public string? RejectionMessage { get; private set; }

    public void Reject(string reason, int count = 1)
    {
        RejectedSpans += count;
        RejectionMessage ??= reason;
    }
}
