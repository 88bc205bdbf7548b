namespace Ariadne.Instrumentation.Context;

/// <summary>Which business keys travel as W3C baggage, and how long a value may be.</summary>
public sealed class BusinessContextOptions
{
    /// <summary>
    /// Keys carried as baggage to downstream services and copied onto their spans. Anything else set through
    /// <see cref="AriadneContext.Set"/> tags the current span only, and incoming baggage outside this list is dropped.
    /// </summary>
    public ISet<string> BaggageAllowlist { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        AriadneContext.UserIdKey,
        AriadneContext.SessionIdKey,
        AriadneContext.OrderIdKey,
        AriadneContext.PaymentIdKey,
        AriadneContext.CustomerTierKey,
    };

    /// <summary>Longer values are cut to this many characters, on spans and in baggage.</summary>
    public int MaxValueLength { get; set; } = 128;
}
