using Ariadne.Model;

namespace Ariadne.Storage;

/// <summary>
/// Decides whether one span satisfies a <see cref="TraceQuery"/>, so every engine filters the same way.
/// Tags are compared as Jaeger does: against the string form of span, resource and event attributes, plus the
/// tags Jaeger derives from OTLP fields (<c>error</c>, <c>span.kind</c>, <c>otel.status_code</c>).
/// </summary>
public static class SpanMatcher
{
    public static bool Matches(Span span, TraceQuery query)
    {
        if (query.ServiceName is { Length: > 0 } service && !string.Equals(span.ServiceName, service, StringComparison.Ordinal))
        {
            return false;
        }

        if (query.OperationName is { Length: > 0 } operation && !string.Equals(span.Name, operation, StringComparison.Ordinal))
        {
            return false;
        }

        var startTicks = span.StartTimeUnixNano / 100;
        var start = DateTimeOffset.UnixEpoch.AddTicks(startTicks);
        if (start < query.StartTimeMin || start > query.StartTimeMax)
        {
            return false;
        }

        var duration = TimeSpan.FromTicks(span.DurationNanos / 100);
        if (query.MinDuration is { } min && duration < min)
        {
            return false;
        }

        if (query.MaxDuration is { } max && duration > max)
        {
            return false;
        }

        foreach (var (key, value) in query.Tags)
        {
            if (!HasTag(span, key, value))
            {
                return false;
            }
        }

        return true;
    }

    public static bool HasTag(Span span, string key, string value)
    {
        switch (key)
        {
            case "error":
                if (span.IsError && value == "true")
                {
                    return true;
                }

                break;
            case "span.kind":
                if (span.Kind != SpanKind.Unspecified && string.Equals(SpanKindName(span.Kind), value, StringComparison.Ordinal))
                {
                    return true;
                }

                break;
            case "otel.status_code":
                if (span.StatusCode != StatusCode.Unset && string.Equals(StatusCodeName(span.StatusCode), value, StringComparison.Ordinal))
                {
                    return true;
                }

                break;
            case "otel.status_description":
                if (span.StatusMessage.Length > 0 && string.Equals(span.StatusMessage, value, StringComparison.Ordinal))
                {
                    return true;
                }

                break;
        }

        if (Contains(span.Attributes, key, value) || Contains(span.Resource.Attributes, key, value))
        {
            return true;
        }

        foreach (var e in span.Events)
        {
            if (Contains(e.Attributes, key, value))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Tags that come from span fields rather than attributes (engines cannot look for them in attribute data).</summary>
    public static bool IsDerivedTag(string key) => key is "error" or "span.kind" or "otel.status_code" or "otel.status_description";

    /// <summary>Jaeger's lower-case span kind names, used for the <c>span.kind</c> tag and operation kinds.</summary>
    public static string SpanKindName(SpanKind kind) => kind switch
    {
        SpanKind.Internal => "internal",
        SpanKind.Server => "server",
        SpanKind.Client => "client",
        SpanKind.Producer => "producer",
        SpanKind.Consumer => "consumer",
        _ => string.Empty,
    };

    public static string StatusCodeName(StatusCode code) => code switch
    {
        StatusCode.Ok => "OK",
        StatusCode.Error => "ERROR",
        _ => string.Empty,
    };

    private static bool Contains(KeyValue[] attributes, string key, string value)
    {
        foreach (var kv in attributes)
        {
            if (string.Equals(kv.Key, key, StringComparison.Ordinal) && string.Equals(kv.Value.ToString(), value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
