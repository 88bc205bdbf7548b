using System.Diagnostics;
using OpenTelemetry;

namespace Ariadne.Instrumentation.Context;

/// <summary>
/// Copies allowlisted baggage (user, session, order, payment…) onto every span as it starts, so a downstream
/// service's spans are searchable by the business ids an upstream service set.
/// </summary>
internal sealed class BusinessContextProcessor : BaseProcessor<Activity>
{
    public override void OnStart(Activity data)
    {
        var policy = AriadneContext.Policy;
        foreach (var key in policy.AllowedKeys)
        {
            // An incoming request's server span starts before OpenTelemetry's ASP.NET Core instrumentation makes the
            // request's baggage current; ASP.NET Core has already put it on the activity itself by then.
            var value = Baggage.GetBaggage(key) ?? data.GetBaggageItem(key);
            if (value is not null && data.GetTagItem(key) is null)
            {
                data.SetTag(key, policy.Limit(value));
            }
        }
    }
}
