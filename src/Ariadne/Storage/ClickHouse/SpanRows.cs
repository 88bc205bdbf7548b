using System.Globalization;
using System.Text.Json;
using Ariadne.Model;

namespace Ariadne.Storage.ClickHouse;

/// <summary>
/// Maps spans to rows of the spans table and back. Attributes are parallel arrays of key, string form (what tag
/// search compares, as Jaeger does) and <see cref="AnyValueType"/> code (to give the value its type back).
/// The ADR's business keys are promoted to columns: a string span attribute such as <c>order.id</c> moves to the
/// <c>order_id</c> column and leaves its key with an empty value and the <see cref="InColumn"/> flag in the arrays,
/// so it is stored once and the attribute keeps its place.
/// </summary>
public static class SpanRows
{
    /// <summary>Type-code flag: the value lives in the business-key column named by the key.</summary>
    public const byte InColumn = 0x80;

    /// <summary>The promoted attributes and their columns, in column order.</summary>
    public static readonly (string Key, string Column)[] BusinessKeys =
    [
        ("user.id", "user_id"),
        ("session.id", "session_id"),
        ("order.id", "order_id"),
        ("payment.id", "payment_id"),
        ("customer.tier", "customer_tier"),
    ];

    /// <summary>Columns in the order rows are written and read; <c>tenant</c> is written but never read back.</summary>
    public static readonly (string Name, string Type)[] Columns =
    [
        ("tenant", "String"),
        ("trace_id", "FixedString(16)"),
        ("span_id", "UInt64"),
        ("parent_span_id", "UInt64"),
        ("trace_state", "String"),
        ("flags", "UInt32"),
        ("service", "String"),
        ("name", "String"),
        ("kind", "UInt8"),
        ("start_ns", "UInt64"),
        ("duration_ns", "Int64"),
        ("status_code", "UInt8"),
        ("status_message", "String"),
        ("user_id", "String"),
        ("session_id", "String"),
        ("order_id", "String"),
        ("payment_id", "String"),
        ("customer_tier", "String"),
        ("attr_keys", "Array(String)"),
        ("attr_values", "Array(String)"),
        ("attr_types", "Array(UInt8)"),
        ("dropped_attrs", "UInt32"),
        ("resource_keys", "Array(String)"),
        ("resource_values", "Array(String)"),
        ("resource_types", "Array(UInt8)"),
        ("resource_dropped", "UInt32"),
        ("scope_name", "String"),
        ("scope_version", "String"),
        ("scope_keys", "Array(String)"),
        ("scope_values", "Array(String)"),
        ("scope_types", "Array(UInt8)"),
        ("event_times", "Array(UInt64)"),
        ("event_names", "Array(String)"),
        ("event_keys", "Array(Array(String))"),
        ("event_values", "Array(Array(String))"),
        ("event_types", "Array(Array(UInt8))"),
        ("event_dropped", "Array(UInt32)"),
        ("dropped_events", "UInt32"),
        ("link_trace_ids", "Array(FixedString(16))"),
        ("link_span_ids", "Array(UInt64)"),
        ("link_states", "Array(String)"),
        ("link_flags", "Array(UInt32)"),
        ("link_keys", "Array(Array(String))"),
        ("link_values", "Array(Array(String))"),
        ("link_types", "Array(Array(UInt8))"),
        ("dropped_links", "UInt32"),
    ];

    public static readonly string InsertColumnList = string.Join(", ", Columns.Select(c => c.Name));

    public static readonly string SelectColumnList = string.Join(", ", Columns.Skip(1).Select(c => c.Name));

    public static string? ColumnOf(string key)
    {
        foreach (var (k, column) in BusinessKeys)
        {
            if (string.Equals(k, key, StringComparison.Ordinal))
            {
                return column;
            }
        }

        return null;
    }

    public static void Write(RowBinaryWriter w, string tenant, Span span)
    {
        Span<int> promoted = stackalloc int[BusinessKeys.Length];
        promoted.Fill(-1);
        var attributes = span.Attributes;
        for (var i = 0; i < attributes.Length; i++)
        {
            if (attributes[i].Value is { Type: AnyValueType.String, AsString.Length: > 0 } && BusinessIndex(attributes[i].Key) is var b and >= 0 && promoted[b] < 0)
            {
                promoted[b] = i;
            }
        }

        w.String(tenant);
        w.TraceId(span.TraceId);
        w.UInt64(span.SpanId.Value);
        w.UInt64(span.ParentSpanId.Value);
        w.String(span.TraceState);
        w.UInt32(span.Flags);
        w.String(span.ServiceName);
        w.String(span.Name);
        w.UInt8((byte)span.Kind);
        w.UInt64((ulong)span.StartTimeUnixNano);
        w.UInt64((ulong)span.DurationNanos);
        w.UInt8((byte)span.StatusCode);
        w.String(span.StatusMessage);
        for (var b = 0; b < BusinessKeys.Length; b++)
        {
            w.String(BusinessValue(span, b, promoted[b]));
        }

        w.ArrayLength(attributes.Length);
        foreach (var kv in attributes)
        {
            w.String(kv.Key);
        }

        w.ArrayLength(attributes.Length);
        for (var i = 0; i < attributes.Length; i++)
        {
            w.String(promoted.Contains(i) ? string.Empty : attributes[i].Value.ToString());
        }

        w.ArrayLength(attributes.Length);
        for (var i = 0; i < attributes.Length; i++)
        {
            w.UInt8((byte)((byte)attributes[i].Value.Type | (promoted.Contains(i) ? InColumn : 0)));
        }

        w.UInt32(span.DroppedAttributesCount);
        WriteAttributes(w, span.Resource.Attributes);
        w.UInt32(span.Resource.DroppedAttributesCount);
        w.String(span.Scope.Name);
        w.String(span.Scope.Version);
        WriteAttributes(w, span.Scope.Attributes);

        var events = span.Events;
        w.ArrayLength(events.Length);
        foreach (var e in events)
        {
            w.UInt64((ulong)e.TimeUnixNano);
        }

        w.ArrayLength(events.Length);
        foreach (var e in events)
        {
            w.String(e.Name);
        }

        WriteNestedAttributes(w, events.Length, i => events[i].Attributes);
        w.ArrayLength(events.Length);
        foreach (var e in events)
        {
            w.UInt32(e.DroppedAttributesCount);
        }

        w.UInt32(span.DroppedEventsCount);

        var links = span.Links;
        w.ArrayLength(links.Length);
        foreach (var l in links)
        {
            w.TraceId(l.TraceId);
        }

        w.ArrayLength(links.Length);
        foreach (var l in links)
        {
            w.UInt64(l.SpanId.Value);
        }

        w.ArrayLength(links.Length);
        foreach (var l in links)
        {
            w.String(l.TraceState);
        }

        w.ArrayLength(links.Length);
        foreach (var l in links)
        {
            w.UInt32(l.Flags);
        }

        WriteNestedAttributes(w, links.Length, i => links[i].Attributes);

        w.UInt32(span.DroppedLinksCount);
    }

    /// <summary>Reads one row selected with <see cref="SelectColumnList"/>.</summary>
    public static Span Read(ref RowBinaryReader r)
    {
        var span = new Span { Resource = null! };
        span.TraceId = r.TraceId();
        span.SpanId = new SpanId(r.UInt64());
        span.ParentSpanId = new SpanId(r.UInt64());
        span.TraceState = r.String();
        span.Flags = r.UInt32();
        var service = r.String();
        span.Name = r.String();
        span.Kind = (SpanKind)r.UInt8();
        span.StartTimeUnixNano = (long)r.UInt64();
        span.EndTimeUnixNano = span.StartTimeUnixNano + (long)r.UInt64();
        span.StatusCode = (StatusCode)r.UInt8();
        span.StatusMessage = r.String();
        Span<string> business = new string[BusinessKeys.Length];
        for (var b = 0; b < business.Length; b++)
        {
            business[b] = r.String();
        }

        var keys = ReadStrings(ref r);
        var values = ReadStrings(ref r);
        var types = ReadBytes(ref r);
        var attributes = new KeyValue[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            var type = types[i];
            var text = (type & InColumn) != 0 ? business[BusinessIndex(keys[i])] : values[i];
            attributes[i] = new KeyValue(keys[i], Parse((AnyValueType)(type & ~InColumn), text));
        }

        span.Attributes = attributes;
        span.DroppedAttributesCount = r.UInt32();
        var resourceAttributes = ReadAttributes(ref r);
        span.Resource = new Resource { ServiceName = service, Attributes = resourceAttributes, DroppedAttributesCount = r.UInt32() };
        var scopeName = r.String();
        var scopeVersion = r.String();
        var scopeAttributes = ReadAttributes(ref r);
        span.Scope = scopeName.Length == 0 && scopeVersion.Length == 0 && scopeAttributes.Length == 0
            ? InstrumentationScope.Empty
            : new InstrumentationScope { Name = scopeName, Version = scopeVersion, Attributes = scopeAttributes };

        var eventCount = r.ArrayLength();
        var events = new SpanEvent[eventCount];
        var eventTimes = new long[eventCount];
        for (var i = 0; i < eventCount; i++)
        {
            eventTimes[i] = (long)r.UInt64();
        }

        var eventNames = ReadStrings(ref r);
        var eventAttributes = ReadNestedAttributes(ref r);
        var eventDropped = ReadUInt32s(ref r);
        for (var i = 0; i < eventCount; i++)
        {
            events[i] = new SpanEvent(eventTimes[i], eventNames[i], eventAttributes[i], eventDropped[i]);
        }

        span.Events = events;
        span.DroppedEventsCount = r.UInt32();

        var linkCount = r.ArrayLength();
        var linkTraceIds = new TraceId[linkCount];
        for (var i = 0; i < linkCount; i++)
        {
            linkTraceIds[i] = r.TraceId();
        }

        r.ArrayLength();
        var linkSpanIds = new ulong[linkCount];
        for (var i = 0; i < linkCount; i++)
        {
            linkSpanIds[i] = r.UInt64();
        }

        var linkStates = ReadStrings(ref r);
        var linkFlags = ReadUInt32s(ref r);
        var linkAttributes = ReadNestedAttributes(ref r);
        var links = new SpanLink[linkCount];
        for (var i = 0; i < linkCount; i++)
        {
            links[i] = new SpanLink(linkTraceIds[i], new SpanId(linkSpanIds[i]), linkStates[i], linkAttributes[i], linkFlags[i]);
        }

        span.Links = links;
        span.DroppedLinksCount = r.UInt32();
        return span;
    }

    /// <summary>Turns a stored string form back into a typed value.</summary>
    public static AnyValue Parse(AnyValueType type, string text)
    {
        switch (type)
        {
            case AnyValueType.String:
                return AnyValue.FromString(text);
            case AnyValueType.Bool:
                return AnyValue.FromBool(text == "true");
            case AnyValueType.Int:
                return AnyValue.FromInt(long.Parse(text, CultureInfo.InvariantCulture));
            case AnyValueType.Double:
                return AnyValue.FromDouble(double.Parse(text, CultureInfo.InvariantCulture));
            case AnyValueType.Bytes:
                return AnyValue.FromBytes(Convert.FromBase64String(text));
            case AnyValueType.Array:
            case AnyValueType.KeyValueList:
                using (var document = JsonDocument.Parse(text))
                {
                    return FromJson(document.RootElement);
                }

            default:
                return AnyValue.Empty;
        }
    }

    private static int BusinessIndex(string key)
    {
        for (var b = 0; b < BusinessKeys.Length; b++)
        {
            if (string.Equals(BusinessKeys[b].Key, key, StringComparison.Ordinal))
            {
                return b;
            }
        }

        return -1;
    }

    /// <summary>The column value: the span's own attribute (promoted or, for non-strings, its text), else the resource's.</summary>
    private static string BusinessValue(Span span, int business, int promotedIndex)
    {
        if (promotedIndex >= 0)
        {
            return span.Attributes[promotedIndex].Value.AsString;
        }

        var key = BusinessKeys[business].Key;
        if (span.TryGetAttribute(key, out var value))
        {
            return value.ToString();
        }

        foreach (var kv in span.Resource.Attributes)
        {
            if (string.Equals(kv.Key, key, StringComparison.Ordinal))
            {
                return kv.Value.ToString();
            }
        }

        return string.Empty;
    }

    private static AnyValue FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => AnyValue.FromString(element.GetString()!),
        JsonValueKind.True => AnyValue.FromBool(true),
        JsonValueKind.False => AnyValue.FromBool(false),
        JsonValueKind.Number when element.TryGetInt64(out var l) => AnyValue.FromInt(l),
        JsonValueKind.Number => AnyValue.FromDouble(element.GetDouble()),
        JsonValueKind.Array => AnyValue.FromArray(element.EnumerateArray().Select(FromJson).ToArray()),
        JsonValueKind.Object => AnyValue.FromKeyValueList(element.EnumerateObject().Select(p => new KeyValue(p.Name, FromJson(p.Value))).ToArray()),
        _ => AnyValue.Empty,
    };

    private static void WriteAttributes(RowBinaryWriter w, KeyValue[] attributes)
    {
        w.ArrayLength(attributes.Length);
        foreach (var kv in attributes)
        {
            w.String(kv.Key);
        }

        w.ArrayLength(attributes.Length);
        foreach (var kv in attributes)
        {
            w.String(kv.Value.ToString());
        }

        w.ArrayLength(attributes.Length);
        foreach (var kv in attributes)
        {
            w.UInt8((byte)kv.Value.Type);
        }
    }

    private static void WriteNestedAttributes(RowBinaryWriter w, int count, Func<int, KeyValue[]> attributesOf)
    {
        w.ArrayLength(count);
        for (var i = 0; i < count; i++)
        {
            w.ArrayLength(attributesOf(i).Length);
            foreach (var kv in attributesOf(i))
            {
                w.String(kv.Key);
            }
        }

        w.ArrayLength(count);
        for (var i = 0; i < count; i++)
        {
            w.ArrayLength(attributesOf(i).Length);
            foreach (var kv in attributesOf(i))
            {
                w.String(kv.Value.ToString());
            }
        }

        w.ArrayLength(count);
        for (var i = 0; i < count; i++)
        {
            w.ArrayLength(attributesOf(i).Length);
            foreach (var kv in attributesOf(i))
            {
                w.UInt8((byte)kv.Value.Type);
            }
        }
    }

    private static KeyValue[] ReadAttributes(ref RowBinaryReader r)
    {
        var keys = ReadStrings(ref r);
        var values = ReadStrings(ref r);
        var types = ReadBytes(ref r);
        return Combine(keys, values, types);
    }

    private static KeyValue[][] ReadNestedAttributes(ref RowBinaryReader r)
    {
        var count = r.ArrayLength();
        var keys = new string[count][];
        for (var i = 0; i < count; i++)
        {
            keys[i] = ReadStrings(ref r);
        }

        r.ArrayLength();
        var values = new string[count][];
        for (var i = 0; i < count; i++)
        {
            values[i] = ReadStrings(ref r);
        }

        r.ArrayLength();
        var result = new KeyValue[count][];
        for (var i = 0; i < count; i++)
        {
            result[i] = Combine(keys[i], values[i], ReadBytes(ref r));
        }

        return result;
    }

    private static KeyValue[] Combine(string[] keys, string[] values, byte[] types)
    {
        if (keys.Length == 0)
        {
            return [];
        }

        var result = new KeyValue[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            result[i] = new KeyValue(keys[i], Parse((AnyValueType)types[i], values[i]));
        }

        return result;
    }

    private static string[] ReadStrings(ref RowBinaryReader r)
    {
        var count = r.ArrayLength();
        if (count == 0)
        {
            return [];
        }

        var result = new string[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = r.String();
        }

        return result;
    }

    private static byte[] ReadBytes(ref RowBinaryReader r)
    {
        var count = r.ArrayLength();
        var result = new byte[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = r.UInt8();
        }

        return result;
    }

    private static uint[] ReadUInt32s(ref RowBinaryReader r)
    {
        var count = r.ArrayLength();
        var result = new uint[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = r.UInt32();
        }

        return result;
    }
}
