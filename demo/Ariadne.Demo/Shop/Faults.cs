using System.Diagnostics;
using System.Text.Json;

namespace Ariadne.Demo.Shop;

/// <summary>Faults injected at run time through the gateway's <c>/admin/faults</c>; every service reads them.</summary>
internal sealed record Faults
{
    /// <summary>Added to every inventory reservation.</summary>
    public int SlowInventoryMs { get; init; }

    /// <summary>Payments decline every card of this type ("visa", "mastercard", "amex").</summary>
    public string? FailingCardType { get; init; }

    /// <summary>Until this time (Unix ms) half of the catalog's and orders' requests fail with a 500 (<see cref="ErrorBurst"/>).</summary>
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

/// <summary>
/// The error burst: half of a service's requests fail as if its database were locked. The catalog and orders both
/// take it, so every route of the gateway (browse, search, cart, checkout) fails about half the time, well over the
/// GatewayErrors rule's 20 %; failing checkouts alone (a quarter of the traffic) stayed under it.
/// </summary>
internal static class ErrorBurst
{
    public const string Message = "database is locked (injected error burst)";

    public static void UseErrorBurst(this WebApplication app)
    {
        var faults = app.Services.GetRequiredService<FaultSwitchboard>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Ariadne.Demo.Faults");
        app.Use(async (context, next) =>
        {
            if (!faults.Current.InErrorBurst || Random.Shared.Next(2) == 0
                || context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/admin"))
            {
                await next();
                return;
            }

            // Answered here rather than thrown: an exception would put a stack trace in the demo's log for every
            // injected failure, and one line says all there is to say.
            Activity.Current?.SetStatus(ActivityStatusCode.Error, Message);
            Activity.Current?.SetTag("demo.fault", "error_burst");
            logger.LogError("{Method} {Path}: {Error}", context.Request.Method, context.Request.Path, Message);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsJsonAsync(new { error = Message });
        });
    }
}
