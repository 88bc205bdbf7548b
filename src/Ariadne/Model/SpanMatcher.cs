namespace Ariadne.Model;

/// <summary>
/// Decides whether one span satisfies a <see cref="TraceQuery"/>, so every engine filters the same way (the contract
/// tests pin these rules down). Tags are compared as Jaeger's memory store compares them: against the text of span,
/// scope, resource, event and link attributes; <c>resource.</c>-prefixed keys against resource attributes only; and
/// the tags Jaeger derives from OTLP fields (<c>error</c>, <c>span.kind</c>, <c>span.status</c>,
/// <c>otel.status_code</c>, <c>otel.status_description</c>, <c>otel.scope.name</c>, <c>otel.scope.version</c>)
/// against those fields.
/// </summary>
public static class SpanMatcher
{
    private const string ResourcePrefix = "resource.";

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

        var start = DateTimeOffset.UnixEpoch.AddTicks(span.StartTimeUnixNano / 100);
        if (start < query.StartTimeMin || start > query.StartTimeMax)
        {
            return false;
        }

        var duration = TimeSpan.FromTicks(span.DurationNanos / 100);
        if ((query.MinDuration is { } min && duration < min) || (query.MaxDuration is { } max && duration > max))
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
        if (key.StartsWith(ResourcePrefix, StringComparison.Ordinal))
        {
            return Contains(span.Resource.Attributes, key[ResourcePrefix.Length..], value);
        }

        if (MatchesDerived(span, key, value))
        {
            return true;
        }

        if (Contains(span.Attributes, key, value)
            || Contains(span.Scope.Attributes, key, value)
            || Contains(span.Resource.Attributes, key, value))
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

        foreach (var link in span.Links)
        {
            if (Contains(link.Attributes, key, value))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The attribute key a span must carry (in some attribute list) to match the tag filter <paramref name="key"/>, or
    /// null when the tag can also match a span field. Engines use it to skip spans before decoding them.
    /// </summary>
    public static string? RequiredAttributeKey(string key) =>
        key.StartsWith(ResourcePrefix, StringComparison.Ordinal) ? key[ResourcePrefix.Length..]
        : key is "error" or "span.kind" or "span.status" or "otel.status_code" or "otel.status_description"
            or "otel.scope.name" or "scope.name" or "otel.scope.version" or "scope.version" ? null
        : key;

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

    /// <summary>The inverse of <see cref="SpanKindName"/>: a lower-case Jaeger kind name to its kind.</summary>
    public static SpanKind? ParseSpanKindName(string name)
    {
        foreach (var kind in Enum.GetValues<SpanKind>())
        {
            if (kind != SpanKind.Unspecified && string.Equals(SpanKindName(kind), name, StringComparison.Ordinal))
            {
                return kind;
            }
        }

        return null;
    }

    public static string StatusCodeName(StatusCode code) => code switch
    {
        StatusCode.Ok => "OK",
        StatusCode.Error => "ERROR",
        _ => string.Empty,
    };

    /// <summary>Go's strconv.ParseBool, which Jaeger uses to read the <c>error</c> tag filter.</summary>
    public static bool TryParseGoBool(string text, out bool value)
    {
        switch (text)
        {
            case "1" or "t" or "T" or "true" or "TRUE" or "True":
                value = true;
                return true;
            case "0" or "f" or "F" or "false" or "FALSE" or "False":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    private static bool MatchesDerived(Span span, string key, string value)
    {
        switch (key)
        {
            case "error":
                // error=false means "not an error", not Jaeger memory's "status OK", which SDKs rarely set.
                return TryParseGoBool(value, out var wantError)
                    && wantError == (span.IsError || Contains(span.Attributes, "error", "true"));
            case "span.kind":
                return span.Kind != SpanKind.Unspecified && string.Equals(SpanKindName(span.Kind), value, StringComparison.OrdinalIgnoreCase);
            case "span.status":
                return string.Equals(span.StatusCode == StatusCode.Unset ? "UNSET" : StatusCodeName(span.StatusCode), value, StringComparison.OrdinalIgnoreCase);
            case "otel.status_code":
                return span.StatusCode != StatusCode.Unset && string.Equals(StatusCodeName(span.StatusCode), value, StringComparison.Ordinal);
            case "otel.status_description":
                return span.StatusMessage.Length > 0 && string.Equals(span.StatusMessage, value, StringComparison.Ordinal);
            case "otel.scope.name" or "scope.name":
                return span.Scope.Name.Length > 0 && string.Equals(span.Scope.Name, value, StringComparison.Ordinal);
            case "otel.scope.version" or "scope.version":
                return span.Scope.Version.Length > 0 && string.Equals(span.Scope.Version, value, StringComparison.Ordinal);
            default:
                return false;
        }
    }

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
