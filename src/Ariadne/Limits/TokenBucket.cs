namespace Ariadne.Limits;

/// <summary>
/// A token bucket on a <see cref="TimeProvider"/> (System.Threading.RateLimiting's buckets read Stopwatch and
/// replenish on their own timer, so neither a simulated clock nor an exact retry delay is possible with them).
/// A request is admitted while the bucket is not empty, before its body is decoded; its spans are taken once
/// they are counted, which may leave the bucket in debt, down to one burst, so one batch larger than the burst
/// still gets through and the tenant then waits for the refill.
/// </summary>
internal sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private readonly double _ratePerSecond;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _updated;

    public TokenBucket(double ratePerSecond, double burst, TimeProvider time)
    {
        _ratePerSecond = ratePerSecond;
        _burst = burst;
        _time = time;
        _tokens = burst;
        _updated = time.GetTimestamp();
    }

    /// <summary>Zero while the bucket holds tokens, else how long until it does again.</summary>
    public TimeSpan TimeUntilAvailable()
    {
        lock (_lock)
        {
            Refill();
            return _tokens > 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((1 - _tokens) / _ratePerSecond);
        }
    }

    public void Take(long tokens)
    {
        lock (_lock)
        {
            Refill();
            _tokens = Math.Max(-_burst, _tokens - tokens);
        }
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_updated, now).TotalSeconds * _ratePerSecond));
        _updated = now;
    }
}
