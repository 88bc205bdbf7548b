namespace Ariadne.Pipeline;

/// <summary>The outcome of one ingest request, mapped by each receiver to its protocol's response.</summary>
public readonly record struct IngestResult(int AcceptedSpans, int RejectedSpans, string? RejectionMessage);
