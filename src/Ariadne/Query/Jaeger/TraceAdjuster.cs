using System.Globalization;
using Ariadne.GoCompat;
using Ariadne.Model;

namespace Ariadne.Query.Jaeger;

/// <summary>
/// Jaeger's standard query adjusters (<c>adjuster.StandardAdjusters</c>), applied to copies of stored spans before
/// either API writes them, so traces read back as they would from Jaeger v2: server spans sharing an id with a client
/// span get their own id, attributes sorted by key and events by time, exact duplicates dropped, clock-skew warnings
/// (adjustment itself is off, Jaeger's default), integer IPs as text, SDK attributes moved to the resource, links
/// without a trace id removed. Problems are recorded as Jaeger does, in a <c>@jaeger@warnings</c> span attribute.
/// </summary>
public static class TraceAdjuster
{
    public const string WarningsAttribute = "@jaeger@warnings";

    public const string ServiceNameKey = "service.name";

    private static readonly string[] s_libraryKeys =
        ["telemetry.distro.name", "telemetry.distro.version", "telemetry.sdk.language", "telemetry.sdk.name", "telemetry.sdk.version"];

    private static readonly string[] s_ipKeys = ["ip", "peer.ipv4"];

    /// <summary>
    /// Copies a stored trace into spans the caller may change, ordered by start time then span id. Spans with equal
    /// resources share one copied resource, and equal scopes one scope, as spans of one ResourceSpans/ScopeSpans do.
    /// With <paramref name="adjust"/> false (Jaeger's <c>raw=true</c>) the copies are left as stored.
    /// </summary>
    public static List<Span> Prepare(IReadOnlyList<Span> stored, bool adjust)
    {
        var resources = new List<(Resource Stored, Resource Copy)>();
        var scopes = new List<(InstrumentationScope Stored, InstrumentationScope Copy)>();
        var spans = new List<Span>(stored.Count);
        foreach (var span in stored.OrderBy(s => s.StartTimeUnixNano).ThenBy(s => s.SpanId.Value))
        {
            spans.Add(Copy(span, Intern(resources, span.Resource, SameResource, CopyResource), Intern(scopes, span.Scope, SameScope, CopyScope)));
        }

        if (adjust)
        {
            DeduplicateClientServerSpanIds(spans);
            SortCollections(spans);
            DeduplicateSpans(spans);
            ClockSkewWarnings(spans);
            NormalizeIpAttributes(spans);
            MoveLibraryAttributes(spans);
            RemoveEmptySpanLinks(spans);
        }

        return spans;
    }

    /// <summary>The warnings the adjusters recorded on a span.</summary>
    public static IReadOnlyList<string> GetWarnings(Span span)
    {
        foreach (var kv in span.Attributes)
        {
            if (kv.Key == WarningsAttribute)
            {
                return [.. kv.Value.AsArray.Select(v => v.AsString)];
            }
        }

        return [];
    }

    public static void AddWarning(Span span, string warning)
    {
        var attributes = span.Attributes;
        for (var i = 0; i < attributes.Length; i++)
        {
            if (attributes[i].Key == WarningsAttribute)
            {
                attributes[i] = new KeyValue(WarningsAttribute, AnyValue.FromArray([.. attributes[i].Value.AsArray, AnyValue.FromString(warning)]));
                return;
            }
        }

        span.Attributes = [.. attributes, new KeyValue(WarningsAttribute, AnyValue.FromArray([AnyValue.FromString(warning)]))];
    }

    private static T Intern<T>(List<(T Stored, T Copy)> seen, T item, Func<T, T, bool> same, Func<T, T> copy)
    {
        foreach (var (stored, copied) in seen)
        {
            if (same(stored, item))
            {
                return copied;
            }
        }

        var fresh = copy(item);
        seen.Add((item, fresh));
        return fresh;
    }

    /// <summary>
    /// Copies a resource, adding <c>service.name</c> when a receiver kept the service only in
    /// <see cref="Resource.ServiceName"/>, so both APIs show the resource as an OTLP resource would be.
    /// </summary>
    private static Resource CopyResource(Resource r) => new()
    {
        ServiceName = r.ServiceName,
        Attributes = r.Attributes.Any(kv => kv.Key == ServiceNameKey) || r.ServiceName.Length == 0
            ? [.. r.Attributes]
            : [KeyValue.String(ServiceNameKey, r.ServiceName), .. r.Attributes],
        DroppedAttributesCount = r.DroppedAttributesCount,
    };

    private static InstrumentationScope CopyScope(InstrumentationScope s) => new()
    {
        Name = s.Name,
        Version = s.Version,
        Attributes = [.. s.Attributes],
    };

    private static bool SameResource(Resource a, Resource b) =>
        a.ServiceName == b.ServiceName && a.DroppedAttributesCount == b.DroppedAttributesCount && a.Attributes.AsSpan().SequenceEqual(b.Attributes);

    private static bool SameScope(InstrumentationScope a, InstrumentationScope b) =>
        a.Name == b.Name && a.Version == b.Version && a.Attributes.AsSpan().SequenceEqual(b.Attributes);

    private static Span Copy(Span s, Resource resource, InstrumentationScope scope) => new()
    {
        TraceId = s.TraceId,
        SpanId = s.SpanId,
        ParentSpanId = s.ParentSpanId,
        TraceState = s.TraceState,
        Flags = s.Flags,
        Name = s.Name,
        Kind = s.Kind,
        StartTimeUnixNano = s.StartTimeUnixNano,
        EndTimeUnixNano = s.EndTimeUnixNano,
        Attributes = [.. s.Attributes],
        DroppedAttributesCount = s.DroppedAttributesCount,
        Events = [.. s.Events],
        DroppedEventsCount = s.DroppedEventsCount,
        Links = [.. s.Links],
        DroppedLinksCount = s.DroppedLinksCount,
        StatusCode = s.StatusCode,
        StatusMessage = s.StatusMessage,
        Resource = resource,
        Scope = scope,
    };

    /// <summary>Zipkin-style clients give the server side of an RPC the client's span id; the UI needs unique ids.</summary>
    private static void DeduplicateClientServerSpanIds(List<Span> spans)
    {
        var hasClientSpan = new Dictionary<SpanId, bool>();
        foreach (var span in spans)
        {
            hasClientSpan[span.SpanId] = hasClientSpan.GetValueOrDefault(span.SpanId) || span.Kind == SpanKind.Client;
        }

        var renamed = new Dictionary<SpanId, SpanId>();
        ulong maxUsed = 0;
        foreach (var span in spans)
        {
            if (span.Kind != SpanKind.Server || !hasClientSpan[span.SpanId])
            {
                continue;
            }

            var id = maxUsed + 1;
            while (id != 0 && hasClientSpan.ContainsKey(new SpanId(id)))
            {
                id++;
            }

            if (id == 0)
            {
                AddWarning(span, "cannot assign unique span ID, too many spans in the trace");
                continue;
            }

            maxUsed = id;
            renamed[span.SpanId] = new SpanId(id);
            span.ParentSpanId = span.SpanId;
            span.SpanId = new SpanId(id);
        }

        foreach (var span in spans)
        {
            if (renamed.TryGetValue(span.ParentSpanId, out var parent) && span.SpanId != parent)
            {
                span.ParentSpanId = parent;
            }
        }
    }

    private static void SortCollections(List<Span> spans)
    {
        foreach (var resource in spans.Select(s => s.Resource).Distinct())
        {
            SortByKey(resource.Attributes);
        }

        foreach (var scope in spans.Select(s => s.Scope).Distinct())
        {
            SortByKey(scope.Attributes);
        }

        foreach (var span in spans)
        {
            SortByKey(span.Attributes);
            span.Events = [.. span.Events.OrderBy(e => e.TimeUnixNano).Select(e => e with { Attributes = Sorted(e.Attributes) })];
            span.Links = [.. span.Links.Select(l => l with { Attributes = Sorted(l.Attributes) })];
        }

        static KeyValue[] Sorted(KeyValue[] attributes)
        {
            var copy = attributes.ToArray();
            SortByKey(copy);
            return copy;
        }
    }

    private static void SortByKey(KeyValue[] attributes) =>
        Array.Sort(attributes, static (a, b) => string.CompareOrdinal(a.Key, b.Key));

    /// <summary>Drops spans identical in every field, resource and scope included (archives can store a span twice).</summary>
    private static void DeduplicateSpans(List<Span> spans)
    {
        var kept = new List<Span>(spans.Count);
        var keptById = new Dictionary<SpanId, List<Span>>();
        foreach (var span in spans)
        {
            if (!keptById.TryGetValue(span.SpanId, out var sameId))
            {
                keptById[span.SpanId] = sameId = [];
            }

            if (!sameId.Any(k => SameSpan(k, span)))
            {
                sameId.Add(span);
                kept.Add(span);
            }
        }

        spans.Clear();
        spans.AddRange(kept);
    }

    private static bool SameSpan(Span a, Span b) =>
        a.TraceId == b.TraceId && a.ParentSpanId == b.ParentSpanId && a.TraceState == b.TraceState && a.Flags == b.Flags
        && a.Name == b.Name && a.Kind == b.Kind && a.StartTimeUnixNano == b.StartTimeUnixNano && a.EndTimeUnixNano == b.EndTimeUnixNano
        && a.Attributes.AsSpan().SequenceEqual(b.Attributes) && a.DroppedAttributesCount == b.DroppedAttributesCount
        && a.Events.Length == b.Events.Length
        && a.Events.Zip(b.Events).All(p => p.First.TimeUnixNano == p.Second.TimeUnixNano && p.First.Name == p.Second.Name
            && p.First.DroppedAttributesCount == p.Second.DroppedAttributesCount && p.First.Attributes.AsSpan().SequenceEqual(p.Second.Attributes))
        && a.DroppedEventsCount == b.DroppedEventsCount && a.Links.Length == b.Links.Length
        && a.Links.Zip(b.Links).All(p => p.First.TraceId == p.Second.TraceId && p.First.SpanId == p.Second.SpanId
            && p.First.TraceState == p.Second.TraceState && p.First.Flags == p.Second.Flags && p.First.Attributes.AsSpan().SequenceEqual(p.Second.Attributes))
        && a.DroppedLinksCount == b.DroppedLinksCount && a.StatusCode == b.StatusCode && a.StatusMessage == b.StatusMessage
        && SameResource(a.Resource, b.Resource) && SameScope(a.Scope, b.Scope);

    /// <summary>
    /// Jaeger's clock-skew pass with adjustment disabled (<c>max_clock_skew_adjust: 0</c>, its default): it walks each
    /// span tree, computes how far a child on another host lies outside its parent, and warns instead of moving it.
    /// </summary>
    private static void ClockSkewWarnings(List<Span> spans)
    {
        var nodes = new Dictionary<SpanId, SkewNode>();
        foreach (var span in spans)
        {
            if (nodes.ContainsKey(span.SpanId))
            {
                AddWarning(span, "duplicate span IDs; skipping clock skew adjustment");
            }
            else
            {
                nodes[span.SpanId] = new SkewNode(span, HostKey(span.Resource));
            }
        }

        var roots = new List<SkewNode>();
        foreach (var node in nodes.Values)
        {
            if (node.Span.ParentSpanId.IsEmpty)
            {
                roots.Add(node);
            }
            else if (nodes.TryGetValue(node.Span.ParentSpanId, out var parent))
            {
                parent.Children.Add(node);
            }
            else
            {
                AddWarning(node.Span, $"parent span ID={node.Span.ParentSpanId.ToHex()} is not in the trace; skipping clock skew adjustment");
                roots.Add(node);
            }
        }

        // Iterative, as in Jaeger: a trace can be deeper than the stack allows.
        var stack = new Stack<(SkewNode Node, SkewNode? Parent, string HostKey, long Delta)>();
        foreach (var root in roots)
        {
            stack.Push((root, null, root.HostKey, 0));
            while (stack.TryPop(out var item))
            {
                var (node, parent, hostKey, delta) = item;
                if ((node.HostKey != hostKey || node.HostKey.Length == 0) && parent is not null)
                {
                    hostKey = node.HostKey;
                    delta = CalculateSkew(node.Span, parent.Span);
                }

                if (delta != 0)
                {
                    AddWarning(node.Span, "clock skew adjustment disabled; not applying calculated delta of " + GoDuration.Format(delta));
                }

                for (var i = node.Children.Count - 1; i >= 0; i--)
                {
                    stack.Push((node.Children[i], node, hostKey, delta));
                }
            }
        }
    }

    private static long CalculateSkew(Span child, Span parent)
    {
        var parentDuration = parent.EndTimeUnixNano - parent.StartTimeUnixNano;
        var childDuration = child.EndTimeUnixNano - child.StartTimeUnixNano;
        if (childDuration > parentDuration)
        {
            // The child outlived its parent (async, or the parent timed out): only make sure it does not start earlier.
            return child.StartTimeUnixNano < parent.StartTimeUnixNano ? parent.StartTimeUnixNano - child.StartTimeUnixNano : 0;
        }

        if (child.StartTimeUnixNano >= parent.StartTimeUnixNano && child.EndTimeUnixNano <= parent.EndTimeUnixNano)
        {
            return 0;
        }

        // Network latency assumed split evenly between request and response.
        var latency = (parentDuration - childDuration) / 2;
        return parent.StartTimeUnixNano + latency - child.StartTimeUnixNano;
    }

    /// <summary>Which host a span ran on, so spans of one host are never skew-adjusted against each other.</summary>
    private static string HostKey(Resource resource)
    {
        if (TryGet(resource.Attributes, "host.id", out var id))
        {
            return id.Type == AnyValueType.String ? id.AsString : string.Empty;
        }

        if (TryGet(resource.Attributes, "host.ip", out var ip))
        {
            if (ip.Type == AnyValueType.String)
            {
                return ip.AsString;
            }

            if (ip.Type == AnyValueType.Array && ip.AsArray.Length > 0)
            {
                return ip.AsArray[0].ToString();
            }
        }

        return TryGet(resource.Attributes, "host.name", out var name) && name.Type == AnyValueType.String ? name.AsString : string.Empty;
    }

    private static bool TryGet(KeyValue[] attributes, string key, out AnyValue value)
    {
        foreach (var kv in attributes)
        {
            if (kv.Key == key)
            {
                value = kv.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Jaeger clients report IPv4 addresses as integers; show them dotted.</summary>
    private static void NormalizeIpAttributes(List<Span> spans)
    {
        foreach (var resource in spans.Select(s => s.Resource).Distinct())
        {
            NormalizeIps(resource.Attributes);
        }

        foreach (var span in spans)
        {
            NormalizeIps(span.Attributes);
        }

        static void NormalizeIps(KeyValue[] attributes)
        {
            for (var i = 0; i < attributes.Length; i++)
            {
                if (Array.IndexOf(s_ipKeys, attributes[i].Key) < 0 || attributes[i].Value.Type is not (AnyValueType.Int or AnyValueType.Double))
                {
                    continue;
                }

                var value = attributes[i].Value;
                var ip = value.Type == AnyValueType.Int ? (uint)value.AsInt : (uint)(long)value.AsDouble;
                attributes[i] = KeyValue.String(attributes[i].Key, string.Create(CultureInfo.InvariantCulture, $"{ip >> 24}.{(ip >> 16) & 0xff}.{(ip >> 8) & 0xff}.{ip & 0xff}"));
            }
        }
    }

    /// <summary>SDK identity belongs to the process, not the span (jaegertracing/jaeger#4534).</summary>
    private static void MoveLibraryAttributes(List<Span> spans)
    {
        foreach (var span in spans)
        {
            foreach (var key in s_libraryKeys)
            {
                var index = Array.FindIndex(span.Attributes, kv => kv.Key == key);
                if (index < 0)
                {
                    continue;
                }

                var value = span.Attributes[index].Value;
                var resource = span.Resource;
                var existing = Array.FindIndex(resource.Attributes, kv => kv.Key == key);
                if (existing >= 0)
                {
                    var current = resource.Attributes[existing].Value;
                    if (current.Type != AnyValueType.String || value.Type != AnyValueType.String || current.AsString != value.AsString)
                    {
                        AddWarning(span, "conflicting values between Span and Resource for attribute " + key);
                        continue;
                    }
                }
                else
                {
                    span.Resource = WithAttribute(spans, resource, new KeyValue(key, value));
                }

                span.Attributes = [.. span.Attributes.Where(kv => kv.Key != key)];
            }
        }
    }

    /// <summary>Adds an attribute to a shared resource, so every span of that resource sees it, as in Jaeger.</summary>
    private static Resource WithAttribute(List<Span> spans, Resource resource, KeyValue attribute)
    {
        var updated = new Resource
        {
            ServiceName = resource.ServiceName,
            Attributes = [.. resource.Attributes, attribute],
            DroppedAttributesCount = resource.DroppedAttributesCount,
        };
        foreach (var span in spans)
        {
            if (ReferenceEquals(span.Resource, resource))
            {
                span.Resource = updated;
            }
        }

        return updated;
    }

    private static void RemoveEmptySpanLinks(List<Span> spans)
    {
        foreach (var span in spans)
        {
            if (!span.Links.Any(l => l.TraceId.IsEmpty))
            {
                continue;
            }

            foreach (var _ in span.Links.Where(l => l.TraceId.IsEmpty))
            {
                AddWarning(span, "Invalid span link removed");
            }

            span.Links = [.. span.Links.Where(l => !l.TraceId.IsEmpty)];
        }
    }

    private sealed class SkewNode(Span span, string hostKey)
    {
        public Span Span { get; } = span;

        public string HostKey { get; } = hostKey;

        public List<SkewNode> Children { get; } = [];
    }
}
