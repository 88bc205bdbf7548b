namespace Ariadne.Model;

/// <summary>
/// Jaeger's search semantics: a trace matches when one of its spans has the service, the operation, every tag
/// and a duration in range, and started inside the time window.
/// </summary>
public sealed record TraceQuery
{
    public string? ServiceName { get; init; }

    public string? OperationName { get; init; }

    /// <summary>Tag filters, all of which must hold on the same span (span, resource or event attributes).</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    public TimeSpan? MinDuration { get; init; }

    public TimeSpan? MaxDuration { get; init; }

    public DateTimeOffset StartTimeMin { get; init; } = DateTimeOffset.MinValue;

    public DateTimeOffset StartTimeMax { get; init; } = DateTimeOffset.MaxValue;

    public int Limit { get; init; } = 20;
}
