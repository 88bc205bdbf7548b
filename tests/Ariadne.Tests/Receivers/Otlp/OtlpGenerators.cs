using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PCommon = OpenTelemetry.Proto.Common.V1;
using PResource = OpenTelemetry.Proto.Resource.V1;
using PTrace = OpenTelemetry.Proto.Trace.V1;

namespace Ariadne.Tests.Receivers.Otlp;

/// <summary>
/// FsCheck generators of OTLP trace requests built with the Grpc.Tools-generated types: every field, nested
/// attribute values, unicode, empty and missing messages, ids of wrong lengths, unknown enum values.
/// </summary>
public static class OtlpGenerators
{
    // Few distinct pieces, so keys and values repeat within a request (what interning is for), plus unicode
    // (two- to four-byte UTF-8) and the attribute that names the service.
    private static readonly string[] s_pieces =
        ["", "a", "http.method", "GET", "service.name", "checkout", "é", "日本", "🙂", " ", "\u0000", "db.statement", "x"];

    public static Gen<string> Text { get; } =
        Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(Gen.Elements(s_pieces), n)).Select(string.Concat);

    public static Gen<long> Int64 { get; } = Gen.Frequency(
        (2, Gen.Choose(-1000, 1000).Select(i => (long)i)),
        (1, Gen.Elements(long.MinValue, long.MaxValue, -1L, 0L)),
        (2, Gen.Choose(int.MinValue, int.MaxValue).SelectMany(high => Gen.Choose(int.MinValue, int.MaxValue).Select(low => ((long)high << 32) | (uint)low))));

    public static Gen<ulong> UInt64 { get; } = Int64.Select(value => (ulong)value);

    public static Gen<uint> UInt32 { get; } = Gen.Frequency((3, Gen.Constant(0u)), (1, Int64.Select(value => (uint)value)));

    public static Gen<double> Double { get; } = Gen.Frequency(
        (1, Gen.Elements(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0, double.Epsilon, double.MaxValue)),
        (3, Int64.Select(BitConverter.Int64BitsToDouble)));

    public static Gen<byte[]> Bytes { get; } =
        Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n));

    public static Gen<ExportTraceServiceRequest> Request { get; } =
        ListOf(ResourceSpans(), 3).Select(items =>
        {
            var request = new ExportTraceServiceRequest();
            request.ResourceSpans.AddRange(items);
            return request;
        });

    public static Gen<PCommon.AnyValue> AnyValue(int depth)
    {
        var scalar = Gen.OneOf(
            Gen.Fresh(() => new PCommon.AnyValue()),
            Text.Select(s => new PCommon.AnyValue { StringValue = s }),
            Gen.Elements(true, false).Select(b => new PCommon.AnyValue { BoolValue = b }),
            Int64.Select(i => new PCommon.AnyValue { IntValue = i }),
            Double.Select(d => new PCommon.AnyValue { DoubleValue = d }),
            Bytes.Select(b => new PCommon.AnyValue { BytesValue = ByteString.CopyFrom(b) }));
        if (depth == 0)
        {
            return scalar;
        }

        var array = ListOf(AnyValue(depth - 1), 3).Select(values =>
        {
            var array = new PCommon.ArrayValue();
            array.Values.AddRange(values);
            return new PCommon.AnyValue { ArrayValue = array };
        });
        var kvlist = ListOf(KeyValue(depth - 1), 3).Select(values =>
        {
            var list = new PCommon.KeyValueList();
            list.Values.AddRange(values);
            return new PCommon.AnyValue { KvlistValue = list };
        });
        return Gen.Frequency((6, scalar), (1, array), (1, kvlist));
    }

    public static Gen<PCommon.KeyValue> KeyValue(int depth) =>
        from key in Text
        from hasValue in Gen.Frequency((9, Gen.Constant(true)), (1, Gen.Constant(false)))
        from value in AnyValue(depth)
        select hasValue ? new PCommon.KeyValue { Key = key, Value = value } : new PCommon.KeyValue { Key = key };

    private static Gen<PCommon.KeyValue[]> Attributes() => ListOf(KeyValue(depth: 2), 4);

    private static Gen<PTrace.ResourceSpans> ResourceSpans() =>
        from hasResource in Gen.Elements(true, true, false)
        from attributes in Attributes()
        from serviceName in Gen.Elements(null, "checkout", "日本", "", "payments")
        from dropped in UInt32
        from scopes in ListOf(ScopeSpans(), 3)
        from schemaUrl in Text
        select Build(hasResource, attributes, serviceName, dropped, scopes, schemaUrl);

    private static PTrace.ResourceSpans Build(bool hasResource, PCommon.KeyValue[] attributes, string? serviceName, uint dropped, PTrace.ScopeSpans[] scopes, string schemaUrl)
    {
        var resourceSpans = new PTrace.ResourceSpans { SchemaUrl = schemaUrl };
        if (hasResource)
        {
            var resource = new PResource.Resource { DroppedAttributesCount = dropped };
            resource.Attributes.AddRange(attributes);
            if (serviceName is not null)
            {
                resource.Attributes.Add(new PCommon.KeyValue { Key = "service.name", Value = new PCommon.AnyValue { StringValue = serviceName } });
            }

            resourceSpans.Resource = resource;
        }

        resourceSpans.ScopeSpans.AddRange(scopes);
        return resourceSpans;
    }

    private static Gen<PTrace.ScopeSpans> ScopeSpans() =>
        from hasScope in Gen.Elements(true, true, false)
        from name in Text
        from version in Text
        from attributes in ListOf(KeyValue(depth: 1), 2)
        from spans in ListOf(Span(), 4)
        select BuildScope(hasScope, name, version, attributes, spans);

    private static PTrace.ScopeSpans BuildScope(bool hasScope, string name, string version, PCommon.KeyValue[] attributes, PTrace.Span[] spans)
    {
        var scopeSpans = new PTrace.ScopeSpans();
        if (hasScope)
        {
            scopeSpans.Scope = new PCommon.InstrumentationScope { Name = name, Version = version };
            scopeSpans.Scope.Attributes.AddRange(attributes);
        }

        scopeSpans.Spans.AddRange(spans);
        return scopeSpans;
    }

    // Mostly valid ids, sometimes of a wrong length (the span is then rejected), sometimes all zero.
    private static Gen<byte[]> Id(int length, bool mayBeEmpty) => Gen.Frequency(
        (12, Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), length)),
        (1, Gen.Elements(0, length - 1, length + 1).Where(n => !mayBeEmpty || n != 0).SelectMany(n => Gen.ArrayOf(Gen.Constant((byte)7), n))),
        (mayBeEmpty ? 6 : 1, Gen.Constant(mayBeEmpty ? Array.Empty<byte>() : new byte[length])));

    private static Gen<PTrace.Span> Span() =>
        from traceId in Id(16, mayBeEmpty: false)
        from spanId in Id(8, mayBeEmpty: false)
        from parentSpanId in Id(8, mayBeEmpty: true)
        from traceState in Gen.Elements("", "rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE")
        from name in Text
        from kind in Gen.Choose(0, 7)
        from flags in UInt32
        from start in UInt64
        from end in UInt64
        from attributes in Attributes()
        from counts in Gen.ArrayOf(UInt32, 3)
        from events in ListOf(Event(), 3)
        from links in ListOf(Link(), 2)
        from status in Status()
        select BuildSpan(traceId, spanId, parentSpanId, traceState, name, kind, flags, start, end, attributes, counts, events, links, status);

    private static PTrace.Span BuildSpan(
        byte[] traceId, byte[] spanId, byte[] parentSpanId, string traceState, string name, int kind, uint flags, ulong start, ulong end,
        PCommon.KeyValue[] attributes, uint[] counts, PTrace.Span.Types.Event[] events, PTrace.Span.Types.Link[] links, PTrace.Status? status)
    {
        var span = new PTrace.Span
        {
            TraceId = ByteString.CopyFrom(traceId),
            SpanId = ByteString.CopyFrom(spanId),
            ParentSpanId = ByteString.CopyFrom(parentSpanId),
            TraceState = traceState,
            Name = name,
            Kind = (PTrace.Span.Types.SpanKind)kind,
            Flags = flags,
            StartTimeUnixNano = start,
            EndTimeUnixNano = end,
            DroppedAttributesCount = counts[0],
            DroppedEventsCount = counts[1],
            DroppedLinksCount = counts[2],
            Status = status,
        };
        span.Attributes.AddRange(attributes);
        span.Events.AddRange(events);
        span.Links.AddRange(links);
        return span;
    }

    private static Gen<PTrace.Span.Types.Event> Event() =>
        from time in UInt64
        from name in Text
        from attributes in ListOf(KeyValue(depth: 1), 3)
        from dropped in UInt32
        select BuildEvent(time, name, attributes, dropped);

    private static PTrace.Span.Types.Event BuildEvent(ulong time, string name, PCommon.KeyValue[] attributes, uint dropped)
    {
        var e = new PTrace.Span.Types.Event { TimeUnixNano = time, Name = name, DroppedAttributesCount = dropped };
        e.Attributes.AddRange(attributes);
        return e;
    }

    private static Gen<PTrace.Span.Types.Link> Link() =>
        from traceId in Id(16, mayBeEmpty: false)
        from spanId in Id(8, mayBeEmpty: false)
        from traceState in Gen.Elements("", "rojo=00f067aa0ba902b7")
        from attributes in ListOf(KeyValue(depth: 1), 2)
        from dropped in UInt32
        from flags in UInt32
        select BuildLink(traceId, spanId, traceState, attributes, dropped, flags);

    private static PTrace.Span.Types.Link BuildLink(byte[] traceId, byte[] spanId, string traceState, PCommon.KeyValue[] attributes, uint dropped, uint flags)
    {
        var link = new PTrace.Span.Types.Link
        {
            TraceId = ByteString.CopyFrom(traceId),
            SpanId = ByteString.CopyFrom(spanId),
            TraceState = traceState,
            DroppedAttributesCount = dropped,
            Flags = flags,
        };
        link.Attributes.AddRange(attributes);
        return link;
    }

    private static Gen<PTrace.Status?> Status() => Gen.Frequency(
        (2, Gen.Constant<PTrace.Status?>(null)),
        (3, from message in Text
            from code in Gen.Choose(0, 3)
            select (PTrace.Status?)new PTrace.Status { Message = message, Code = (PTrace.Status.Types.StatusCode)code }));

    internal static Gen<T[]> ListOf<T>(Gen<T> item, int max) => Gen.Choose(0, max).SelectMany(n => Gen.ArrayOf(item, n));
}

/// <summary>The arbitraries FsCheck.Xunit properties take as parameters.</summary>
public static class OtlpArbitraries
{
    public static Arbitrary<ExportTraceServiceRequest> Request() => Arb.From(OtlpGenerators.Request);
}
