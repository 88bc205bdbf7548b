namespace Ariadne.Instrumentation.Sampling;

/// <summary>
/// A token bucket as Jaeger's clients use it: credits accrue at <c>creditsPerSecond</c> up to <c>maxBalance</c>,
/// each sampled trace spends one. Starts full so the first traces after a strategy change are not lost.
/// </summary>
internal sealed class RateLimiter
{
    private readonly double _creditsPerTick;
    private readonly double _maxBalance;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private double _balance;
    private long _lastTick;

    public RateLimiter(double creditsPerSecond, double maxBalance, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _creditsPerTick = creditsPerSecond / _time.TimestampFrequency;
        _maxBalance = maxBalance;
        _balance = maxBalance;
        _lastTick = _time.GetTimestamp();
    }

    public bool TrySpend(double cost = 1.0)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            _balance = Math.Min(_maxBalance, _balance + ((now - _lastTick) * _creditsPerTick));
            _lastTick = now;
            if (_balance < cost)
            {
                return false;
            }

            _balance -= cost;
            return true;
        }
    }
}
