using Ariadne.Storage;

namespace Ariadne.Pipeline;

/// <summary>
/// The outcome of one ingest request, mapped by each receiver to its protocol's response. When
/// <see cref="Unavailable"/> is set, storage could not take the batch and nothing was acknowledged.
/// </summary>
public readonly record struct IngestResult(int AcceptedSpans, int RejectedSpans, string? RejectionMessage, IngestUnavailable? Unavailable = null);

/// <summary>
/// Storage cannot take writes right now but may later (disk full, I/O error, a backlog): the request should be sent
/// again after <paramref name="RetryAfter"/>. Receivers answer 503 with Retry-After, or gRPC UNAVAILABLE with a
/// RetryInfo detail, both retryable for OTLP exporters, and say <paramref name="Message"/>.
/// </summary>
public sealed record IngestUnavailable(TimeSpan RetryAfter, string Message)
{
    internal static IngestUnavailable From(StorageUnavailableException e) =>
        new(TimeSpan.FromSeconds(StorageUnavailableException.RetryAfterSeconds), e.Message);
}
