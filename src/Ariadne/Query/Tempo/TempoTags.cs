using System.Globalization;
using Ariadne.Analysis;
using Ariadne.Model;
using Ariadne.Search;

namespace Ariadne.Query.Tempo;

/// <summary>
/// Tag names and values for the TraceQL editor's autocomplete, read from the traces stored in the window (at most
/// <see cref="TraceQueryService.SampleLimit"/>, latest first): <c>/api/search/tags</c> (<c>tagNames</c>),
/// <c>/api/v2/search/tags?scope=</c> (<c>scopes</c>, intrinsics included for no scope, <c>none</c> or
/// <c>intrinsic</c>, as Tempo's frontend adds them), <c>/api/search/tag/{tag}/values</c> (strings) and
/// <c>/api/v2/search/tag/{tag}/values?q=</c> (typed <c>{type, value}</c>). A <c>q</c> narrows names and values to the
/// spans it selects; the editor sends the query being typed, so one that does not parse yet narrows nothing.
/// </summary>
internal static class TempoTags
{
    // Scopes in the order Tempo's v2 answer lists them.
    private static readonly string[] s_scopes = ["resource", "span", "event", "link", "instrumentation"];

    private static readonly HashSet<string> s_validScopes = new(["", "none", "intrinsic", "trace", .. s_scopes], StringComparer.Ordinal);

    /// <summary>search.GetVirtualIntrinsicValues: what the v2 answer lists in the <c>intrinsic</c> scope.</summary>
    private static readonly string[] s_intrinsics =
    [
        "duration", "name", "status", "statusMessage", "kind", "rootServiceName", "rootName", "traceDuration",
        "event:name", "event:timeSinceStart", "link:spanID", "link:traceID", "instrumentation:name", "instrumentation:version",
        "trace:id", "span:id", "span:parentID", "span:status", "span:statusMessage", "span:duration", "span:name", "span:kind",
        "trace:rootName", "trace:rootService", "trace:duration",
    ];

    private static readonly (string Type, string Value)[] s_statusValues = [("keyword", "ok"), ("keyword", "error"), ("keyword", "unset")];

    private static readonly (string Type, string Value)[] s_kindValues =
        [("keyword", "client"), ("keyword", "server"), ("keyword", "producer"), ("keyword", "consumer"), ("keyword", "internal"), ("keyword", "unspecified")];

    public static async Task WriteTagNamesAsync(HttpContext context, string tenant, TraceQueryService reads, bool v2)
    {
        var request = context.Request;
        var scope = v2 ? TempoParameters.Get(request, "scope") ?? "" : "";
        if (!s_validScopes.Contains(scope))
        {
            throw new TempoBadRequestException($"invalid scope: {scope}");
        }

        var (start, end) = TempoParameters.ParseSearchWindow(request, context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(), signed: true);
        var limit = (int)Math.Min(TempoParameters.ParseUInt(request, "limit") ?? int.MaxValue, int.MaxValue);
        var names = s_scopes.ToDictionary(s => s, _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        if (scope is not ("intrinsic" or "trace"))
        {
            foreach (var span in await SelectSpansAsync(context, tenant, reads, start, end))
            {
                names["resource"].Add("service.name");
                AddKeys(names["resource"], span.Resource.Attributes);
                AddKeys(names["span"], span.Attributes);
                foreach (var spanEvent in span.Events)
                {
                    AddKeys(names["event"], spanEvent.Attributes);
                }

                foreach (var link in span.Links)
                {
                    AddKeys(names["link"], link.Attributes);
                }

                AddKeys(names["instrumentation"], span.Scope.Attributes);
            }
        }

        await TempoApi.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            if (!v2)
            {
                w.WriteStartArray("tagNames");
                foreach (var name in names.Values.SelectMany(n => n).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(limit))
                {
                    w.WriteStringValue(name);
                }

                w.WriteEndArray();
            }
            else
            {
                w.WriteStartArray("scopes");
                if (scope is "" or "none" or "intrinsic")
                {
                    WriteScope(w, "intrinsic", s_intrinsics.Take(limit));
                }

                foreach (var name in s_scopes)
                {
                    if ((scope is "" or "none" || scope == name) && names[name].Count > 0)
                    {
                        WriteScope(w, name, names[name].Take(limit));
                    }
                }

                w.WriteEndArray();
            }

            w.WriteStartObject("metrics");
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    public static async Task WriteTagValuesAsync(HttpContext context, string tenant, TraceQueryService reads, bool v2)
    {
        var request = context.Request;
        // Kestrel leaves an encoded slash in a route value; Tempo's router unescapes the whole segment.
        var tag = ((string)context.GetRouteValue("tag")!).Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        var fixedValues = v2 ? StaticValues(tag) : null;
        Func<Span, Span?, IEnumerable<(string Type, string Value)>>? read = fixedValues is not null ? null
            : v2 ? ParseTraceQlTag(tag)
            : (span, _) => UnscopedValues(span, tag);
        var (start, end) = TempoParameters.ParseSearchWindow(request, context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(), signed: true);
        var limit = (int)Math.Min(TempoParameters.ParseUInt(request, "limit") ?? int.MaxValue, int.MaxValue);

        IEnumerable<(string Type, string Value)> values = fixedValues ?? [];
        if (read is not null)
        {
            var found = new SortedSet<(string Type, string Value)>();
            foreach (var (span, root) in await SelectSpansWithRootsAsync(context, tenant, reads, start, end))
            {
                found.UnionWith(read(span, root));
            }

            values = found;
        }

        await TempoApi.WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("tagValues");
            foreach (var (type, value) in values.Take(limit))
            {
                if (v2)
                {
                    w.WriteStartObject();
                    w.WriteString("type", type);
                    w.WriteString("value", value);
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteStringValue(value);
                }
            }

            w.WriteEndArray();
            w.WriteStartObject("metrics");
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    /// <summary>search.GetVirtualTagValuesV2: status and kind list their keywords, durations nothing.</summary>
    private static (string Type, string Value)[]? StaticValues(string tag) => tag switch
    {
        "status" or "span:status" => s_statusValues,
        "kind" or "span:kind" => s_kindValues,
        "duration" or "span:duration" or "traceDuration" or "trace:duration" => [],
        _ => null,
    };

    /// <summary>A v2 tag (TraceQL's spelling) as a reader of typed values from a span and its trace's root.</summary>
    private static Func<Span, Span?, IEnumerable<(string Type, string Value)>> ParseTraceQlTag(string tag)
    {
        switch (tag)
        {
            case "name" or "span:name":
                return (span, _) => [("string", span.Name)];
            case "statusMessage" or "span:statusMessage":
                return (span, _) => span.StatusMessage.Length > 0 ? [("string", span.StatusMessage)] : [];
            case "rootServiceName" or "trace:rootService":
                return (_, root) => root is null ? [] : [("string", root.ServiceName)];
            case "rootName" or "trace:rootName":
                return (_, root) => root is null ? [] : [("string", root.Name)];
            case "event:name":
                return (span, _) => span.Events.Select(e => ("string", e.Name));
            case "instrumentation:name":
                return (span, _) => span.Scope.Name.Length > 0 ? [("string", span.Scope.Name)] : [];
            case "instrumentation:version":
                return (span, _) => span.Scope.Version.Length > 0 ? [("string", span.Scope.Version)] : [];
        }

        var dot = tag.IndexOf('.', StringComparison.Ordinal);
        var key = dot < 0 ? "" : tag[(dot + 1)..];
        if (key.Length > 0)
        {
            switch (tag[..dot])
            {
                case "span":
                    return (span, _) => Typed(span.Attributes, key);
                case "resource":
                    return (span, _) => key == "service.name" ? [("string", span.ServiceName)] : Typed(span.Resource.Attributes, key);
                case "event":
                    return (span, _) => span.Events.SelectMany(e => Typed(e.Attributes, key));
                case "link":
                    return (span, _) => span.Links.SelectMany(l => Typed(l.Attributes, key));
                case "instrumentation":
                    return (span, _) => Typed(span.Scope.Attributes, key);
                case "":
                    return (span, _) => Typed(span.Attributes, key).Concat(key == "service.name" ? [("string", span.ServiceName)] : Typed(span.Resource.Attributes, key));
            }
        }

        throw new TempoBadRequestException(
            $"tag name is not valid intrinsic or scoped attribute: {tag}: use an intrinsic (name, status, kind, ...) or a scoped attribute such as span.http.method, resource.service.name or .http.method");
    }

    /// <summary>v1 values: the tag is an attribute name, looked up on the span, then its resource.</summary>
    private static IEnumerable<(string Type, string Value)> UnscopedValues(Span span, string key)
    {
        if (key == "service.name")
        {
            return [("string", span.ServiceName)];
        }

        var typed = Typed(span.Attributes, key).ToList();
        return typed.Count > 0 ? typed : Typed(span.Resource.Attributes, key);
    }

    /// <summary>traceql's static types as the v2 values name them: string, int, float, bool.</summary>
    private static IEnumerable<(string Type, string Value)> Typed(KeyValue[] attributes, string key)
    {
        foreach (var kv in attributes)
        {
            if (kv.Key != key)
            {
                continue;
            }

            var value = kv.Value;
            switch (value.Type)
            {
                case AnyValueType.String:
                    yield return ("string", value.AsString);
                    break;
                case AnyValueType.Int:
                    yield return ("int", value.AsInt.ToString(CultureInfo.InvariantCulture));
                    break;
                case AnyValueType.Double:
                    yield return ("float", value.AsDouble.ToString(CultureInfo.InvariantCulture));
                    break;
                case AnyValueType.Bool:
                    yield return ("bool", value.AsBool ? "true" : "false");
                    break;
            }
        }
    }

    private static void AddKeys(SortedSet<string> names, KeyValue[] attributes)
    {
        foreach (var kv in attributes)
        {
            names.Add(kv.Key);
        }
    }

    private static void WriteScope(System.Text.Json.Utf8JsonWriter w, string name, IEnumerable<string> tags)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteStartArray("tags");
        foreach (var tag in tags)
        {
            w.WriteStringValue(tag);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static async Task<IEnumerable<Span>> SelectSpansAsync(HttpContext context, string tenant, TraceQueryService reads, DateTimeOffset start, DateTimeOffset end) =>
        (await SelectSpansWithRootsAsync(context, tenant, reads, start, end)).Select(s => s.Span);

    /// <summary>The spans of the window's traces that the request's <c>q</c> selects (all when it has none, or none that parses), each with its trace's root.</summary>
    private static async Task<List<(Span Span, Span? Root)>> SelectSpansWithRootsAsync(
        HttpContext context, string tenant, TraceQueryService reads, DateTimeOffset start, DateTimeOffset end)
    {
        var filter = TryParseFilter(TempoParameters.Get(context.Request, "q"));
        var selected = new List<(Span, Span?)>();
        foreach (var trace in await reads.SampleTracesAsync(tenant, start, end, context.RequestAborted))
        {
            var tree = TraceTree.Build(trace);
            var root = tree.Root?.Span is { ParentSpanId.IsEmpty: true } r ? r : null;
            var nodes = filter is null ? tree.Nodes : filter.Match(tree);
            selected.AddRange(nodes.Select(n => (n.Span, root)));
        }

        return selected;
    }

    private static SearchQuery? TryParseFilter(string? q)
    {
        if (string.IsNullOrWhiteSpace(q))
        {
            return null;
        }

        try
        {
            return SearchQuery.Parse(q);
        }
        catch (SearchSyntaxException)
        {
            return null;
        }
    }
}
