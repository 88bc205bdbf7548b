using Ariadne.Pipeline;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// An OTLP export response: success, or partial success with the number of rejected items and why. Every signal's
/// response has this shape (partial_success = 1 { rejected_&lt;items&gt; = 1, error_message = 2 }).
/// </summary>
public sealed record OtlpExportResponse(long RejectedItems, string? ErrorMessage)
{
    public static readonly OtlpExportResponse Success = new(0, null);

    /// <summary>
    /// Set when storage could not take the export: the receiver then answers with its protocol's retryable error
    /// (503 with Retry-After, UNAVAILABLE with RetryInfo) instead of this response.
    /// </summary>
    public IngestUnavailable? Unavailable { get; init; }

    public bool IsPartialSuccess => RejectedItems != 0 || !string.IsNullOrEmpty(ErrorMessage);
}
