using Ariadne.Model;

namespace Ariadne.Storage.ClickHouse;

/// <summary>
/// SQL for one tag filter with <see cref="SpanMatcher"/>'s semantics: <c>resource.</c>-prefixed keys against resource
/// attributes only; the tags Jaeger derives from OTLP fields; then span, scope, resource, event and link attributes
/// compared by string form. A business key (<c>order.id</c>…) is compared on its column instead of the span's arrays.
/// </summary>
public static class TagFilter
{
    private const string ResourcePrefix = "resource.";

    public static string Condition(string key, string value)
    {
        var v = ClickHouseSql.Quote(value);
        if (key.StartsWith(ResourcePrefix, StringComparison.Ordinal))
        {
            return Pairs(ClickHouseSql.Quote(key[ResourcePrefix.Length..]), v, "resource");
        }

        var k = ClickHouseSql.Quote(key);
        var alternatives = new List<string>();
        AddDerived(alternatives, key, value, v);
        if (SpanRows.ColumnOf(key) is { } column && value.Length > 0)
        {
            alternatives.Add($"{column} = {v}");
        }
        else
        {
            // Promoted business values sit in the span's arrays as empty placeholders flagged InColumn; skip those.
            alternatives.Add($"arrayExists((k, v, t) -> k = {k} AND v = {v} AND t < {SpanRows.InColumn}, attr_keys, attr_values, attr_types)");
        }

        alternatives.Add(Pairs(k, v, "scope"));
        alternatives.Add(Pairs(k, v, "resource"));
        alternatives.Add($"arrayExists((ks, vs) -> arrayExists((k, v) -> k = {k} AND v = {v}, ks, vs), event_keys, event_values)");
        alternatives.Add($"arrayExists((ks, vs) -> arrayExists((k, v) -> k = {k} AND v = {v}, ks, vs), link_keys, link_values)");
        return string.Join(" OR ", alternatives);
    }

    private static string Pairs(string k, string v, string prefix) =>
        $"arrayExists((k, v) -> k = {k} AND v = {v}, {prefix}_keys, {prefix}_values)";

    private static void AddDerived(List<string> alternatives, string key, string value, string v)
    {
        switch (key)
        {
            case "error" when SpanMatcher.TryParseGoBool(value, out var wantError):
                var isError = $"(status_code = {(int)StatusCode.Error} OR arrayExists((k, v) -> k = 'error' AND v = 'true', attr_keys, attr_values))";
                alternatives.Add(wantError ? isError : "NOT " + isError);
                break;
            case "span.kind":
                foreach (var kind in Enum.GetValues<SpanKind>())
                {
                    if (kind != SpanKind.Unspecified && string.Equals(SpanMatcher.SpanKindName(kind), value, StringComparison.OrdinalIgnoreCase))
                    {
                        alternatives.Add($"kind = {(int)kind}");
                    }
                }

                break;
            case "span.status":
                foreach (var code in Enum.GetValues<StatusCode>())
                {
                    var name = code == StatusCode.Unset ? "UNSET" : SpanMatcher.StatusCodeName(code);
                    if (string.Equals(name, value, StringComparison.OrdinalIgnoreCase))
                    {
                        alternatives.Add($"status_code = {(int)code}");
                    }
                }

                break;
            case "otel.status_code":
                foreach (var code in new[] { StatusCode.Ok, StatusCode.Error })
                {
                    if (string.Equals(SpanMatcher.StatusCodeName(code), value, StringComparison.Ordinal))
                    {
                        alternatives.Add($"status_code = {(int)code}");
                    }
                }

                break;
            case "otel.status_description" when value.Length > 0:
                alternatives.Add($"status_message = {v}");
                break;
            case "otel.scope.name" or "scope.name" when value.Length > 0:
                alternatives.Add($"scope_name = {v}");
                break;
            case "otel.scope.version" or "scope.version" when value.Length > 0:
                alternatives.Add($"scope_version = {v}");
                break;
        }
    }
}
