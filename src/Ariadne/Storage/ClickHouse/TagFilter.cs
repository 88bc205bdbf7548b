using Ariadne.Model;

namespace Ariadne.Storage.ClickHouse;

/// <summary>
/// SQL for one tag filter with <see cref="SpanMatcher"/>'s semantics: the tags Jaeger derives from OTLP fields,
/// then span, resource and event attributes compared by string form. A business key (<c>order.id</c>…) is
/// matched on its column, which holds the span's value or, when the span has none, its resource's.
/// </summary>
public static class TagFilter
{
    public static string Condition(string key, string value)
    {
        var v = ClickHouseSql.Quote(value);
        var k = ClickHouseSql.Quote(key);
        var alternatives = new List<string>();
        switch (key)
        {
            case "error" when value == "true":
                alternatives.Add("status_code = 2");
                break;
            case "span.kind":
                foreach (var kind in Enum.GetValues<SpanKind>())
                {
                    if (kind != SpanKind.Unspecified && SpanMatcher.SpanKindName(kind) == value)
                    {
                        alternatives.Add($"kind = {(int)kind}");
                    }
                }

                break;
            case "otel.status_code":
                foreach (var code in new[] { StatusCode.Ok, StatusCode.Error })
                {
                    if (SpanMatcher.StatusCodeName(code) == value)
                    {
                        alternatives.Add($"status_code = {(int)code}");
                    }
                }

                break;
            case "otel.status_description" when value.Length > 0:
                alternatives.Add($"status_message = {v}");
                break;
        }

        if (SpanRows.ColumnOf(key) is { } column && value.Length > 0)
        {
            alternatives.Add($"{column} = {v}");
        }
        else
        {
            // Promoted values sit in the arrays as an empty placeholder flagged InColumn; skip those.
            alternatives.Add($"arrayExists((k, v, t) -> k = {k} AND v = {v} AND t < {SpanRows.InColumn}, attr_keys, attr_values, attr_types)");
            alternatives.Add($"arrayExists((k, v) -> k = {k} AND v = {v}, resource_keys, resource_values)");
        }

        alternatives.Add($"arrayExists((ks, vs) -> arrayExists((k, v) -> k = {k} AND v = {v}, ks, vs), event_keys, event_values)");
        return string.Join(" OR ", alternatives);
    }
}
