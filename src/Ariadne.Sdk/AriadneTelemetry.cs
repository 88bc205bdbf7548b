using System.Diagnostics;

namespace Ariadne.Instrumentation;

/// <summary>The activity source of the spans the SDK itself creates (database, messaging).</summary>
public static class AriadneTelemetry
{
    public const string SourceName = "Ariadne.Sdk";

    internal static readonly ActivitySource Source = new(SourceName, typeof(AriadneTelemetry).Assembly.GetName().Version?.ToString());

    internal static void RecordError(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.SetTag("error.type", exception.GetType().FullName);
        activity.AddException(exception);
    }
}
