using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ariadne.Model;

namespace Ariadne.Receivers.Otlp;

/// <summary>Decodes an export request body of one signal and format into its batch (<c>OtlpProtobufTraceDecoder.Decode</c>).</summary>
internal delegate void OtlpDecode<in TBatch>(ReadOnlySpan<byte> body, TBatch batch);

/// <summary>What the protobuf and JSON decoders share once a value is read: the mapping onto the model.</summary>
internal static class OtlpDecoding
{
    /// <summary>
    /// A span's resource until its ResourceSpans is fully read: on the wire the resource may follow the spans.
    /// </summary>
    public static readonly Resource PendingResource = new() { ServiceName = Resource.UnknownService };

    public static SpanKind ToSpanKind(ulong value) => value <= (ulong)SpanKind.Consumer ? (SpanKind)value : SpanKind.Unspecified;

    public static StatusCode ToStatusCode(ulong value) => value <= (ulong)StatusCode.Error ? (StatusCode)value : StatusCode.Unset;

    /// <summary>Null when the ids are valid, else why the span is rejected.</summary>
    public static string? ValidateIds(int traceIdLength, int spanIdLength, int parentSpanIdLength) =>
        traceIdLength != TraceId.ByteLength ? OtlpRejections.TraceIdLength
        : spanIdLength != SpanId.ByteLength ? OtlpRejections.SpanIdLength
        : parentSpanIdLength is not (0 or SpanId.ByteLength) ? OtlpRejections.ParentSpanIdLength
        : null;

    /// <summary>Gives the items decoded since <paramref name="firstItem"/> their (one, shared) resource.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AssignResource<TItem>(List<TItem> items, int firstItem, Resource resource)
        where TItem : ITelemetryItem
    {
        foreach (var item in CollectionsMarshal.AsSpan(items)[firstItem..])
        {
            item.Resource = resource;
        }
    }

    /// <summary>Gives the items decoded since <paramref name="firstItem"/> their (one, shared) scope.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AssignScope<TItem>(List<TItem> items, int firstItem, InstrumentationScope scope)
        where TItem : ITelemetryItem
    {
        foreach (var item in CollectionsMarshal.AsSpan(items)[firstItem..])
        {
            item.Scope = scope;
        }
    }

    /// <summary>The one Resource the items of an OTLP Resource{Spans,Logs} share.</summary>
    public static Resource CreateResource(KeyValue[] attributes, uint droppedAttributes) => new()
    {
        ServiceName = FindServiceName(attributes),
        Attributes = attributes,
        DroppedAttributesCount = droppedAttributes,
    };

    /// <summary>The one scope the items of an OTLP Scope{Spans,Logs} share; <see cref="InstrumentationScope.Empty"/> when unset.</summary>
    public static InstrumentationScope CreateScope(string name, string version, KeyValue[] attributes) =>
        name.Length == 0 && version.Length == 0 && attributes.Length == 0
            ? InstrumentationScope.Empty
            : new InstrumentationScope { Name = name, Version = version, Attributes = attributes };

    /// <summary>Appends the attributes of a message that occurred again (protobuf merges repeated fields).</summary>
    public static KeyValue[] Append(KeyValue[] existing, KeyValue[] more) =>
        existing.Length == 0 ? more : more.Length == 0 ? existing : [.. existing, .. more];

    /// <summary>
    /// Protobuf's merge of an AnyValue that occurs twice: an unset one changes nothing, two arrays or two kvlists
    /// concatenate, anything else replaces. Senders do not do this; it keeps the decoder equal to the generated one.
    /// </summary>
    public static AnyValue Merge(AnyValue existing, AnyValue incoming) => (existing.Type, incoming.Type) switch
    {
        // The common case by far: the first value of a oneof, nothing to merge.
        (AnyValueType.Empty, _) => incoming,
        (_, AnyValueType.Empty) => existing,
        (AnyValueType.Array, AnyValueType.Array) => AnyValue.FromArray([.. existing.AsArray, .. incoming.AsArray]),
        (AnyValueType.KeyValueList, AnyValueType.KeyValueList) => AnyValue.FromKeyValueList([.. existing.AsKeyValueList, .. incoming.AsKeyValueList]),
        _ => incoming,
    };

    private static string FindServiceName(KeyValue[] attributes)
    {
        foreach (var attribute in attributes)
        {
            if (attribute.Value.Type == AnyValueType.String && attribute.Key == "service.name")
            {
                return attribute.Value.AsString;
            }
        }

        return Resource.UnknownService;
    }
}
