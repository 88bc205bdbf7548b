using System.Collections.Frozen;
using OpenTelemetry;

namespace Ariadne.Instrumentation.Context;

/// <summary>The immutable form of <see cref="BusinessContextOptions"/> that the hot paths read.</summary>
internal sealed class BusinessContextPolicy
{
    public BusinessContextPolicy(BusinessContextOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxValueLength, 1, nameof(options.MaxValueLength));
        AllowedKeys = [.. options.BaggageAllowlist];
        Allowed = options.BaggageAllowlist.ToFrozenSet(StringComparer.Ordinal);
        MaxValueLength = options.MaxValueLength;
    }

    public static BusinessContextPolicy Default { get; } = new(new BusinessContextOptions());

    public string[] AllowedKeys { get; }

    public FrozenSet<string> Allowed { get; }

    public int MaxValueLength { get; }

    public bool IsAllowed(string key) => Allowed.Contains(key);

    public string Limit(string value)
    {
        if (value.Length <= MaxValueLength)
        {
            return value;
        }

        // Never leave half a surrogate pair: it would not survive UTF-8 percent-encoding in the baggage header.
        var length = char.IsHighSurrogate(value[MaxValueLength - 1]) ? MaxValueLength - 1 : MaxValueLength;
        return value[..length];
    }

    /// <summary>The allowlisted entries of <paramref name="baggage"/>, with values cut to the limit.</summary>
    /// <remarks>
    /// Runs on every extract and inject (each incoming request, each outgoing call). Baggage that already passes, the
    /// usual case between services that share this SDK, is returned as it is, without a copy.
    /// </remarks>
    public Baggage Filter(Baggage baggage)
    {
        if (baggage.Count == 0 || Passes(baggage))
        {
            return baggage;
        }

        var kept = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in baggage)
        {
            if (value is not null && IsAllowed(key))
            {
                kept[key] = Limit(value);
            }
        }

        return Baggage.Create(kept);
    }

    private bool Passes(Baggage baggage)
    {
        foreach (var (key, value) in baggage)
        {
            if (value is null || value.Length > MaxValueLength || !IsAllowed(key))
            {
                return false;
            }
        }

        return true;
    }
}
