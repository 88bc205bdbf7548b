namespace Ariadne.Model;

/// <summary>Size figures of a span store, for /metrics and `ariadne storage`.</summary>
public readonly record struct StorageStats(long Spans, long Traces, long Bytes);
