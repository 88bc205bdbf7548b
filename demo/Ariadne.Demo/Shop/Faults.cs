using System.Text.Json;

namespace Ariadne.Demo.Shop;

/// <summary>Faults injected at run time through the gateway's <c>/admin/faults</c>; every service reads them.</summary>
internal sealed record Faults
{
    /// <summary>Added to every inventory reservation.</summary>
    public int SlowInventoryMs { get; init; }

    /// <summary>Payments decline every card of this type ("visa", "mastercard", "amex").</summary>
    public string? FailingCardType { get; init; }

    /// <summary>Until this time (Unix ms) half of the orders fail with a 500.</summary>
    public long ErrorBurstUntilUnixMs { get; init; }

    /// <summary>The catalog search runs a deliberately expensive query.</summary>
    public bool SlowSql { get; init; }

    public bool InErrorBurst => ErrorBurstUntilUnixMs > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}

/// <summary>
/// The faults file shared by the shop's processes (one writer: the gateway). Re-read when it changes, at most
/// every 250 ms, so a fault switched on takes effect within a fraction of a second everywhere.
/// </summary>
internal sealed class FaultSwitchboard(string path)
{
    private readonly Lock _lock = new();
    private Faults _current = new();
    private DateTime _lastWrite;
    private long _nextCheck;

    public Faults Current
    {
        get
        {
            var now = Environment.TickCount64;
            if (now < Volatile.Read(ref _nextCheck))
            {
                return _current;
            }

            lock (_lock)
            {
                _nextCheck = now + 250;
                var write = File.Exists(path) ? File.GetLastWriteTimeUtc(path) : default;
                if (write != _lastWrite)
                {
                    _lastWrite = write;
                    _current = Read();
                }

                return _current;
            }
        }
    }

    public void Write(Faults faults)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(faults));
        File.Move(temp, path, overwrite: true);
    }

    private Faults Read()
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<Faults>(File.ReadAllText(path)) ?? new Faults() : new Faults();
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return _current;
        }
    }
}
