using System.Diagnostics;
using OpenTelemetry;

namespace Ariadne.Instrumentation.Context;

/// <summary>
/// Copies allowlisted baggage (user, session, order, payment…) onto every span as it starts, so a downstream
/// service's spans are searchable by the business ids an upstream service set.
/// </summary>
/// <remarks>
/// On every span start, so it walks the few baggage entries there are rather than looking each allowlisted key up
/// (which read the async-local once per key, and walked the activity's parents once per key that was missing).
/// </remarks>
internal sealed class BusinessContextProcessor : BaseProcessor<Activity>
{
    public override void OnStart(Activity data)
    {
        var policy = AriadneContext.Policy;
        var current = Baggage.Current;
        if (current.Count > 0)
        {
            foreach (var (key, value) in current)
            {
                Copy(data, policy, key, value);
            }

            return;
        }

        // No baggage is current yet: an incoming request's server span starts before OpenTelemetry's ASP.NET Core
        // instrumentation makes the request's baggage current, and ASP.NET Core has already put it on the activity.
        // Its entries come nearest first, so a parent's value never replaces the activity's own.
        foreach (var (key, value) in data.Baggage)
        {
            Copy(data, policy, key, value);
        }
    }

    private static void Copy(Activity data, BusinessContextPolicy policy, string key, string? value)
    {
        if (value is not null && policy.IsAllowed(key) && data.GetTagItem(key) is null)
        {
            data.SetTag(key, policy.Limit(value));
        }
    }
}
