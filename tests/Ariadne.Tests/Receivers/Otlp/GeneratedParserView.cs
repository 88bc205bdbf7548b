using Ariadne.Model;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PCommon = OpenTelemetry.Proto.Common.V1;
using PTrace = OpenTelemetry.Proto.Trace.V1;
using Span = Ariadne.Model.Span;

namespace Ariadne.Tests.Receivers.Otlp;

/// <summary>
/// What the Grpc.Tools-generated parser reads from a request, mapped onto Ariadne's model by the OTLP rules (written
/// independently of the decoder): the expectation the hand-written decoders are checked against.
/// </summary>
public static class GeneratedParserView
{
    public static (List<Span> Spans, int Rejected) Map(ExportTraceServiceRequest request)
    {
        var spans = new List<Span>();
        var rejected = 0;
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var attributes = resourceSpans.Resource?.Attributes.Select(Map).ToArray() ?? [];
            var firstWithServiceName = attributes.FirstOrDefault(a => a.Key == "service.name" && a.Value.Type == AnyValueType.String);
            var resource = new Resource
            {
                ServiceName = firstWithServiceName.Key is null ? Resource.UnknownService : firstWithServiceName.Value.AsString,
                Attributes = attributes,
                DroppedAttributesCount = resourceSpans.Resource?.DroppedAttributesCount ?? 0,
            };
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                var scope = scopeSpans.Scope is { } s && (s.Name.Length > 0 || s.Version.Length > 0 || s.Attributes.Count > 0)
                    ? new InstrumentationScope { Name = s.Name, Version = s.Version, Attributes = s.Attributes.Select(Map).ToArray() }
                    : InstrumentationScope.Empty;
                foreach (var span in scopeSpans.Spans)
                {
                    if (span.TraceId.Length != 16 || span.SpanId.Length != 8 || span.ParentSpanId.Length is not (0 or 8))
                    {
                        rejected++;
                        continue;
                    }

                    spans.Add(Map(span, resource, scope));
                }
            }
        }

        return (spans, rejected);
    }

    private static Span Map(PTrace.Span span, Resource resource, InstrumentationScope scope)
    {
        var validLinks = span.Links.Where(l => l.TraceId.Length == 16 && l.SpanId.Length == 8).ToArray();
        return new Span
        {
            TraceId = TraceId.FromBytes(span.TraceId.Span),
            SpanId = SpanId.FromBytes(span.SpanId.Span),
            ParentSpanId = span.ParentSpanId.Length == 0 ? default : SpanId.FromBytes(span.ParentSpanId.Span),
            TraceState = span.TraceState,
            Flags = span.Flags,
            Name = span.Name,
            Kind = (int)span.Kind is >= 0 and <= 5 ? (SpanKind)(int)span.Kind : SpanKind.Unspecified,
            StartTimeUnixNano = (long)span.StartTimeUnixNano,
            EndTimeUnixNano = (long)span.EndTimeUnixNano,
            Attributes = span.Attributes.Select(Map).ToArray(),
            DroppedAttributesCount = span.DroppedAttributesCount,
            Events = span.Events.Select(e => new SpanEvent((long)e.TimeUnixNano, e.Name, e.Attributes.Select(Map).ToArray(), e.DroppedAttributesCount)).ToArray(),
            DroppedEventsCount = span.DroppedEventsCount,
            Links = validLinks.Select(l => new SpanLink(TraceId.FromBytes(l.TraceId.Span), SpanId.FromBytes(l.SpanId.Span), l.TraceState, l.Attributes.Select(Map).ToArray(), l.Flags)).ToArray(),
            DroppedLinksCount = span.DroppedLinksCount + (uint)(span.Links.Count - validLinks.Length),
            StatusCode = span.Status is null ? StatusCode.Unset : (int)span.Status.Code is >= 0 and <= 2 ? (StatusCode)(int)span.Status.Code : StatusCode.Unset,
            StatusMessage = span.Status?.Message ?? string.Empty,
            Resource = resource,
            Scope = scope,
        };
    }

    internal static KeyValue Map(PCommon.KeyValue keyValue) => new(keyValue.Key, Map(keyValue.Value));

    internal static AnyValue Map(PCommon.AnyValue? value) => value?.ValueCase switch
    {
        PCommon.AnyValue.ValueOneofCase.StringValue => AnyValue.FromString(value.StringValue),
        PCommon.AnyValue.ValueOneofCase.BoolValue => AnyValue.FromBool(value.BoolValue),
        PCommon.AnyValue.ValueOneofCase.IntValue => AnyValue.FromInt(value.IntValue),
        PCommon.AnyValue.ValueOneofCase.DoubleValue => AnyValue.FromDouble(value.DoubleValue),
        PCommon.AnyValue.ValueOneofCase.BytesValue => AnyValue.FromBytes(value.BytesValue.ToByteArray()),
        PCommon.AnyValue.ValueOneofCase.ArrayValue => AnyValue.FromArray(value.ArrayValue.Values.Select(Map).ToArray()),
        PCommon.AnyValue.ValueOneofCase.KvlistValue => AnyValue.FromKeyValueList(value.KvlistValue.Values.Select(Map).ToArray()),
        _ => AnyValue.Empty,
    };
}

/// <summary>Field-by-field comparison of decoded spans, with messages that name the field.</summary>
public static class ModelAssert
{
    public static void Equal(IReadOnlyList<Span> expected, IReadOnlyList<Span> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Equal(expected[i], actual[i], $"span {i}");
        }
    }

    public static void Equal(Span expected, Span actual, string where)
    {
        Field(expected.TraceId, actual.TraceId, where, "trace id");
        Field(expected.SpanId, actual.SpanId, where, "span id");
        Field(expected.ParentSpanId, actual.ParentSpanId, where, "parent span id");
        Field(expected.TraceState, actual.TraceState, where, "trace state");
        Field(expected.Flags, actual.Flags, where, "flags");
        Field(expected.Name, actual.Name, where, "name");
        Field(expected.Kind, actual.Kind, where, "kind");
        Field(expected.StartTimeUnixNano, actual.StartTimeUnixNano, where, "start");
        Field(expected.EndTimeUnixNano, actual.EndTimeUnixNano, where, "end");
        Attributes(expected.Attributes, actual.Attributes, $"{where} attributes");
        Field(expected.DroppedAttributesCount, actual.DroppedAttributesCount, where, "dropped attributes");
        Field(expected.Events.Length, actual.Events.Length, where, "event count");
        for (var e = 0; e < expected.Events.Length; e++)
        {
            Field(expected.Events[e].TimeUnixNano, actual.Events[e].TimeUnixNano, where, $"event {e} time");
            Field(expected.Events[e].Name, actual.Events[e].Name, where, $"event {e} name");
            Attributes(expected.Events[e].Attributes, actual.Events[e].Attributes, $"{where} event {e} attributes");
            Field(expected.Events[e].DroppedAttributesCount, actual.Events[e].DroppedAttributesCount, where, $"event {e} dropped attributes");
        }

        Field(expected.DroppedEventsCount, actual.DroppedEventsCount, where, "dropped events");
        Field(expected.Links.Length, actual.Links.Length, where, "link count");
        for (var l = 0; l < expected.Links.Length; l++)
        {
            Field(expected.Links[l].TraceId, actual.Links[l].TraceId, where, $"link {l} trace id");
            Field(expected.Links[l].SpanId, actual.Links[l].SpanId, where, $"link {l} span id");
            Field(expected.Links[l].TraceState, actual.Links[l].TraceState, where, $"link {l} trace state");
            Field(expected.Links[l].Flags, actual.Links[l].Flags, where, $"link {l} flags");
            Attributes(expected.Links[l].Attributes, actual.Links[l].Attributes, $"{where} link {l} attributes");
        }

        Field(expected.DroppedLinksCount, actual.DroppedLinksCount, where, "dropped links");
        Field(expected.StatusCode, actual.StatusCode, where, "status code");
        Field(expected.StatusMessage, actual.StatusMessage, where, "status message");
        Field(expected.ServiceName, actual.ServiceName, where, "service name");
        Attributes(expected.Resource.Attributes, actual.Resource.Attributes, $"{where} resource attributes");
        Field(expected.Resource.DroppedAttributesCount, actual.Resource.DroppedAttributesCount, where, "resource dropped attributes");
        Field(expected.Scope.Name, actual.Scope.Name, where, "scope name");
        Field(expected.Scope.Version, actual.Scope.Version, where, "scope version");
        Attributes(expected.Scope.Attributes, actual.Scope.Attributes, $"{where} scope attributes");
    }

    public static void Attributes(KeyValue[] expected, KeyValue[] actual, string where)
    {
        Assert.True(expected.Length == actual.Length, $"{where}: expected {expected.Length} attributes, got {actual.Length}");
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i].Key == actual[i].Key, $"{where}[{i}]: key '{expected[i].Key}' != '{actual[i].Key}'");
            Assert.True(expected[i].Value == actual[i].Value, $"{where}[{i}] ({expected[i].Key}): {Describe(expected[i].Value)} != {Describe(actual[i].Value)}");
        }
    }

    private static string Describe(AnyValue value) => value.Type switch
    {
        AnyValueType.Array => $"[{string.Join(", ", value.AsArray.Select(Describe))}]",
        AnyValueType.KeyValueList => $"{{{string.Join(", ", value.AsKeyValueList.Select(kv => $"{kv.Key}: {Describe(kv.Value)}"))}}}",
        AnyValueType.Double => $"Double:{BitConverter.DoubleToInt64Bits(value.AsDouble):x}",
        _ => $"{value.Type}:{value}",
    };

    private static void Field<T>(T expected, T actual, string where, string field)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
        {
            Assert.Fail($"{where} {field}: expected {expected}, got {actual}");
        }
    }
}
