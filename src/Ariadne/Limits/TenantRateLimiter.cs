using System.Collections.Concurrent;
using Ariadne.Tenancy;

namespace Ariadne.Limits;

/// <summary>
/// Per-tenant ingest rate limits in spans per second: Tenancy:Tenants:N:IngestRateSpansPerSecond, else
/// Limits:IngestRateSpansPerSecond. Tenants without a limit get no bucket at all.
/// </summary>
public sealed class TenantRateLimiter(TenantResolver tenants, LimitsOptions limits, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Zero when the tenant may send now, else how long it should wait.</summary>
    public TimeSpan TimeUntilAvailable(string tenant) => GetBucket(tenant)?.TimeUntilAvailable() ?? TimeSpan.Zero;

    /// <summary>Charges the spans of an admitted request to its tenant.</summary>
    public void Take(string tenant, int spans)
    {
        if (spans > 0)
        {
            GetBucket(tenant)?.Take(spans);
        }
    }

    private TokenBucket? GetBucket(string tenant)
    {
        if (_buckets.TryGetValue(tenant, out var bucket))
        {
            return bucket;
        }

        var configured = tenants.Find(tenant);
        var rate = configured?.IngestRateSpansPerSecond ?? limits.IngestRateSpansPerSecond;
        if (rate <= 0)
        {
            return null;
        }

        var burst = configured?.IngestBurstSpans ?? limits.IngestBurstSpans;
        return _buckets.GetOrAdd(tenant, _ => new TokenBucket(rate, burst > 0 ? burst : Math.Max(1, rate), time));
    }
}
