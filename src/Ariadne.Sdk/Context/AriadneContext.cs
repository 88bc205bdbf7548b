using System.Diagnostics;
using OpenTelemetry;

namespace Ariadne.Instrumentation.Context;

/// <summary>
/// Business context (who, which session, which order, which payment) on the current span, carried to downstream
/// services as W3C baggage where the key is allowlisted (<see cref="BusinessContextOptions.BaggageAllowlist"/>),
/// and copied there onto every span the SDK records.
/// </summary>
/// <remarks>
/// Baggage lives in an async-local: a value set here flows into the calls this code makes afterwards (HTTP, gRPC,
/// messages), not back into the caller.
/// </remarks>
public static class AriadneContext
{
    public const string UserIdKey = "user.id";
    public const string SessionIdKey = "session.id";
    public const string OrderIdKey = "order.id";
    public const string PaymentIdKey = "payment.id";
    public const string CustomerTierKey = "customer.tier";

    private static volatile BusinessContextPolicy s_policy = BusinessContextPolicy.Default;

    internal static BusinessContextPolicy Policy
    {
        get => s_policy;
        set => s_policy = value;
    }

    public static void SetUser(string userId) => Set(UserIdKey, userId);

    public static void SetSession(string sessionId) => Set(SessionIdKey, sessionId);

    public static void SetOrder(string orderId) => Set(OrderIdKey, orderId);

    public static void SetPayment(string paymentId) => Set(PaymentIdKey, paymentId);

    /// <summary>Tags the current span with <paramref name="key"/>; also sets baggage when the key is allowlisted.</summary>
    public static void Set(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        var policy = s_policy;
        value = policy.Limit(value);
        Activity.Current?.SetTag(key, value);
        if (policy.IsAllowed(key))
        {
            Baggage.SetBaggage(key, value);
        }
    }

    /// <summary>The value of an allowlisted key from the incoming or locally set baggage, if any.</summary>
    public static string? Get(string key) => s_policy.IsAllowed(key) ? Baggage.GetBaggage(key) : null;
}
