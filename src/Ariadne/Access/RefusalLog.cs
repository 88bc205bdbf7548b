using Ariadne.Hosting;

namespace Ariadne.Access;

/// <summary>
/// Logs refused requests with their tenant, at most one line per reason every ten seconds: under overload a
/// line per refusal would itself be the overload. The line says how many more were refused since the last one.
/// </summary>
internal sealed class RefusalLog(ILogger logger)
{
    private static readonly long s_intervalMillis = 10_000;

    private readonly Dictionary<string, (long LoggedAt, int Suppressed)> _last = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public void Refused(Listener listener, Refusal refusal, PathString path, string? tenant)
    {
        int suppressed;
        lock (_lock)
        {
            var now = Environment.TickCount64;
            if (_last.TryGetValue(refusal.Reason, out var last) && now - last.LoggedAt < s_intervalMillis)
            {
                _last[refusal.Reason] = (last.LoggedAt, last.Suppressed + 1);
                return;
            }

            suppressed = last.Suppressed;
            _last[refusal.Reason] = (now, 0);
        }

        logger.LogWarning(
            "Refused a request on the {Listener} listener ({Path}) of tenant {Tenant}: {Reason}: {Message} ({Suppressed} more refused for this reason since the last such line)",
            listener,
            path.Value,
            tenant ?? "(invalid tenant header)",
            refusal.Reason,
            refusal.Message,
            suppressed);
    }
}
