namespace Ariadne.Alerts;

/// <summary>RED of a service (or one of its operations) over one window.</summary>
public sealed record RedSample(long Requests, long Errors, double Seconds, long P50Nanos, long P90Nanos, long P95Nanos, long P99Nanos)
{
    public double ErrorRate => Requests == 0 ? 0 : (double)Errors / Requests;

    public double RatePerSecond => Seconds <= 0 ? 0 : Requests / Seconds;

    public long PercentileNanos(int percentile) => percentile switch
    {
        50 => P50Nanos,
        90 => P90Nanos,
        95 => P95Nanos,
        _ => P99Nanos,
    };
}

/// <summary>
/// Where alert rules read RED for a window. The read side implements it (<c>Query/RedSources.cs</c>), so alerts see
/// storage and the aggregators only through it.
/// </summary>
public interface IRedSource
{
    ValueTask<RedSample> GetAsync(string tenant, string service, string? operation, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken);
}
