using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Ariadne.Model;

namespace Ariadne.Limits;

/// <summary>
/// One tenant's limits on the shape of a span or a log record, applied in place. 0 turns a limit off. Event, link and
/// log record attributes get the same count limit as the span's, as the OTel SDK's defaults do.
/// </summary>
internal sealed class SpanShapeLimits(int maxAttributeBytes, int maxAttributes, int maxEvents, int maxLinks, int maxDepth, int maxLogBodyBytes)
{
    public bool Active => maxAttributeBytes > 0 || maxAttributes > 0 || maxEvents > 0 || maxLinks > 0 || maxDepth > 0 || maxLogBodyBytes > 0;

    /// <summary>
    /// Limits a log record: its attributes as a span's, its body to <c>maxLogBodyBytes</c> (strings and byte arrays,
    /// also inside a structured body) and to the depth limit (deeper parts kept as JSON text).
    /// </summary>
    public void Apply(LogRecord record, ref SpanLimitHits hits)
    {
        record.Attributes = LimitAttributes(record.Attributes, ref hits, out var dropped);
        record.DroppedAttributesCount += dropped;
        var body = new SpanLimitHits();
        var limited = Limit(record.Body, 0, maxLogBodyBytes, ref body);
        if (body.AttributesTruncated + body.AttributesFlattened > 0)
        {
            record.Body = limited;
            hits.BodiesLimited++;
        }
    }

    public void Apply(Span span, ref SpanLimitHits hits)
    {
        span.Attributes = LimitAttributes(span.Attributes, ref hits, out var dropped);
        span.DroppedAttributesCount += dropped;
        span.Events = Keep(span.Events, maxEvents, ref hits.EventsDropped, out dropped);
        span.DroppedEventsCount += dropped;
        for (var i = 0; i < span.Events.Length; i++)
        {
            var e = span.Events[i];
            var attributes = LimitAttributes(e.Attributes, ref hits, out dropped);
            span.Events[i] = e with { Attributes = attributes, DroppedAttributesCount = e.DroppedAttributesCount + dropped };
        }

        span.Links = Keep(span.Links, maxLinks, ref hits.LinksDropped, out dropped);
        span.DroppedLinksCount += dropped;
        for (var i = 0; i < span.Links.Length; i++)
        {
            // Ariadne's link keeps no dropped-attributes count; the metric still counts them.
            var link = span.Links[i];
            span.Links[i] = link with { Attributes = LimitAttributes(link.Attributes, ref hits, out _) };
        }
    }

    /// <summary>
    /// Attributes cut to the count limit and their values to the byte and depth limits. The values are limited in
    /// place; a new array only when the count is over the limit.
    /// </summary>
    private KeyValue[] LimitAttributes(KeyValue[] attributes, ref SpanLimitHits hits, out uint dropped)
    {
        var kept = Keep(attributes, maxAttributes, ref hits.AttributesDropped, out dropped);
        LimitValues(kept, ref hits);
        return kept;
    }

    /// <summary>
    /// The first <paramref name="max"/> items (the SDK keeps the first ones too); how many were dropped is added to
    /// <paramref name="droppedHits"/> and returned in <paramref name="dropped"/>.
    /// </summary>
    private static T[] Keep<T>(T[] items, int max, ref int droppedHits, out uint dropped)
    {
        dropped = 0;
        if (max <= 0 || items.Length <= max)
        {
            return items;
        }

        dropped = (uint)(items.Length - max);
        droppedHits += (int)dropped;
        return items[..max];
    }

    /// <summary>
    /// Truncates and flattens the values of a resource's or scope's attributes, in place. Their count is not limited:
    /// those objects are shared by the spans of a batch and their arrays cannot be replaced.
    /// </summary>
    public void ApplyToValues(KeyValue[] attributes, ref SpanLimitHits hits) => LimitValues(attributes, ref hits);

    private void LimitValues(KeyValue[] attributes, ref SpanLimitHits hits)
    {
        for (var i = 0; i < attributes.Length; i++)
        {
            var (key, value) = attributes[i];
            var before = hits.AttributesTruncated + hits.AttributesFlattened;
            var limitedKey = Truncate(key, maxAttributeBytes, ref hits);
            var limited = Limit(value, 0, maxAttributeBytes, ref hits);
            if (hits.AttributesTruncated + hits.AttributesFlattened != before)
            {
                attributes[i] = new KeyValue(limitedKey, limited);
            }
        }
    }

    /// <param name="depth">How many arrays and maps enclose the value.</param>
    /// <param name="maxBytes">The byte limit of its strings and byte arrays.</param>
    private AnyValue Limit(AnyValue value, int depth, int maxBytes, ref SpanLimitHits hits)
    {
        switch (value.Type)
        {
            case AnyValueType.String:
                var text = value.AsString;
                var truncated = Truncate(text, maxBytes, ref hits);
                return ReferenceEquals(truncated, text) ? value : AnyValue.FromString(truncated);
            case AnyValueType.Bytes when maxBytes > 0 && value.AsBytes.Length > maxBytes:
                hits.AttributesTruncated++;
                return AnyValue.FromBytes(value.AsBytes[..maxBytes]);
            case AnyValueType.Array or AnyValueType.KeyValueList when maxDepth > 0 && depth >= maxDepth:
                // Too deep to keep as a structure: its JSON text keeps what it said, searchable as a string.
                hits.AttributesFlattened++;
                return Limit(AnyValue.FromString(AnyValueJson.Serialize(value)), depth, maxBytes, ref hits);
            case AnyValueType.Array:
                var items = value.AsArray;
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = Limit(items[i], depth + 1, maxBytes, ref hits);
                }

                return value;
            case AnyValueType.KeyValueList:
                var entries = value.AsKeyValueList;
                for (var i = 0; i < entries.Length; i++)
                {
                    entries[i] = entries[i] with { Value = Limit(entries[i].Value, depth + 1, maxBytes, ref hits) };
                }

                return value;
            default:
                return value;
        }
    }

    /// <summary>The longest prefix of <paramref name="text"/> that is at most the byte limit in UTF-8, never splitting a character.</summary>
    private static string Truncate(string text, int maxBytes, ref SpanLimitHits hits)
    {
        // A UTF-16 character is at most three UTF-8 bytes: most values need no counting at all.
        if (maxBytes <= 0 || text.Length <= maxBytes / 3 || Encoding.UTF8.GetByteCount(text) <= maxBytes)
        {
            return text;
        }

        hits.AttributesTruncated++;
        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            // Stops before the first character that does not fit whole; a surrogate pair is one character here.
            Utf8.FromUtf16(text, buffer.AsSpan(0, maxBytes), out var charsRead, out _, replaceInvalidSequences: true, isFinalBlock: false);
            return text[..charsRead];
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
