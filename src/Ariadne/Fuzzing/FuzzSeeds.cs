using System.Globalization;
using System.Text;
using Ariadne.Model;

namespace Ariadne.Fuzzing;

/// <summary>
/// Valid payloads to mutate, in each format a receiver takes, and the hostile shapes a mutation rarely reaches:
/// attribute values nested hundreds deep and spans with 100,000 attributes. Written here, by hand, so that the
/// black-box fuzzer needs nothing but the server binary.
/// </summary>
internal static class FuzzSeeds
{
    public const string Service = "fuzz-canary";

    private const long StartNanos = 1_700_000_000_000_000_000;

    /// <summary>An OTLP ExportTraceServiceRequest (protobuf) of one trace with <paramref name="spans"/> spans.</summary>
    public static byte[] OtlpProtobuf(TraceId trace, int spans = 3, int attributes = 2)
    {
        var all = new List<byte>();
        for (var i = 1; i <= spans; i++)
        {
            var span = new List<byte>();
            span.AddRange(Bytes(1, trace.ToBytes()));
            span.AddRange(Bytes(2, SpanIdBytes(i)));
            if (i > 1)
            {
                span.AddRange(Bytes(4, SpanIdBytes(1)));
            }

            span.AddRange(Text(5, $"operation {i}"));
            span.AddRange([(6 << 3) | 0, 2]); // kind: server
            span.AddRange(Fixed64(7, StartNanos + i));
            span.AddRange(Fixed64(8, StartNanos + 1_000_000 + i));
            for (var a = 0; a < attributes; a++)
            {
                span.AddRange(Bytes(9, KeyValue($"attribute.{a}", Bytes(1, Encoding.UTF8.GetBytes($"value é {a}")))));
            }

            all.AddRange(Bytes(2, [.. span]));
        }

        return Request([.. all]);
    }

    /// <summary>One span whose attribute value is an array nested <paramref name="depth"/> deep (protobuf).</summary>
    public static byte[] OtlpProtobufDeep(TraceId trace, int depth)
    {
        var value = new byte[] { (3 << 3) | 0, 1 }; // int_value 1
        for (var i = 0; i < depth; i++)
        {
            value = Bytes(5, Bytes(1, value)); // AnyValue.array_value { values: value }
        }

        return Request(Bytes(2, [.. Bytes(1, trace.ToBytes()), .. Bytes(2, SpanIdBytes(1)), .. Text(5, "deep"), .. Bytes(9, KeyValue("deep", value))]));
    }

    /// <summary>One span with <paramref name="count"/> attributes (protobuf).</summary>
    public static byte[] OtlpProtobufWide(TraceId trace, int count)
    {
        var span = new List<byte>(count * 24);
        span.AddRange(Bytes(1, trace.ToBytes()));
        span.AddRange(Bytes(2, SpanIdBytes(1)));
        span.AddRange(Text(5, "wide"));
        for (var a = 0; a < count; a++)
        {
            span.AddRange(Bytes(9, KeyValue(a.ToString(CultureInfo.InvariantCulture), [(3 << 3) | 0, 1])));
        }

        return Request(Bytes(2, [.. span]));
    }

    /// <summary>An OTLP ExportLogsServiceRequest (protobuf): <paramref name="records"/> log records of one trace.</summary>
    public static byte[] OtlpLogsProtobuf(TraceId trace, int records = 2)
    {
        var all = new List<byte>();
        for (var i = 1; i <= records; i++)
        {
            all.AddRange(Bytes(2, [
                .. Fixed64(1, StartNanos + i), (2 << 3) | 0, 9, .. Text(3, "INFO"), .. Bytes(5, Text(1, $"log line é {i}")),
                .. Bytes(6, KeyValue("attribute.0", Bytes(1, "v"u8))), .. Bytes(9, trace.ToBytes()), .. Bytes(10, SpanIdBytes(i)),
            ]));
        }

        var resource = Bytes(1, KeyValue("service.name", Bytes(1, Encoding.UTF8.GetBytes(Service))));
        return Bytes(1, [.. Bytes(1, resource), .. Bytes(2, [.. Bytes(1, Text(1, "fuzz")), .. all])]);
    }

    /// <summary>The same request as <see cref="OtlpLogsProtobuf"/> in OTLP/JSON.</summary>
    public static byte[] OtlpLogsJson(TraceId trace, int records = 2) => Encoding.UTF8.GetBytes(
        """{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"SERVICE"}}]},"scopeLogs":[{"scope":{"name":"fuzz"},"logRecords":[RECORDS]}]}]}"""
            .Replace("SERVICE", Service, StringComparison.Ordinal)
            .Replace("RECORDS", string.Join(',', Enumerable.Range(1, records).Select(i =>
                Fill("""{"timeUnixNano":"START","severityNumber":9,"severityText":"INFO","body":{"stringValue":"log line é"},"attributes":[{"key":"a","value":{"boolValue":true}}],"traceId":"TRACE","spanId":"SPAN"}""",
                    trace, i, $"{StartNanos + i}"))), StringComparison.Ordinal));

    /// <summary>Zipkin's ListOfSpans (protobuf, zipkin.proto3) of one trace.</summary>
    public static byte[] ZipkinProto(TraceId trace, int spans = 3)
    {
        var all = new List<byte>();
        for (var i = 1; i <= spans; i++)
        {
            var span = new List<byte>();
            span.AddRange(Bytes(1, trace.ToBytes()));
            if (i > 1)
            {
                span.AddRange(Bytes(2, SpanIdBytes(1)));
            }

            span.AddRange(Bytes(3, SpanIdBytes(i)));
            span.AddRange([(4 << 3) | 0, 2]); // kind: server
            span.AddRange(Text(5, $"operation {i}"));
            span.AddRange(Fixed64(6, (StartNanos / 1000) + i));
            span.AddRange([(7 << 3) | 0, 0xE8, 0x07]); // duration: 1000 µs
            span.AddRange(Bytes(8, Text(1, Service)));
            span.AddRange(Bytes(11, [.. Text(1, "http.method"), .. Text(2, "GET")]));
            span.AddRange(Bytes(11, [.. Text(1, "error"), .. Text(2, "boom é")]));
            all.AddRange(Bytes(1, [.. span]));
        }

        return [.. all];
    }

    /// <summary>The same request as <see cref="OtlpProtobuf"/> in OTLP/JSON.</summary>
    public static byte[] OtlpJson(TraceId trace, int spans = 3) => OtlpJsonRequest(string.Join(',', Enumerable.Range(1, spans).Select(i =>
        Fill("""{"traceId":"TRACE","spanId":"SPAN",PARENT"name":"operation N","kind":2,"startTimeUnixNano":"START","endTimeUnixNano":"END","attributes":[{"key":"attribute.0","value":{"stringValue":"value é"}},{"key":"n","value":{"intValue":"7"}}]}""",
            trace, i, $"{StartNanos + i}", $"{StartNanos + 1_000_000 + i}"))));

    /// <summary>One OTLP/JSON span whose attribute value is an array nested <paramref name="depth"/> deep.</summary>
    public static byte[] OtlpJsonDeep(TraceId trace, int depth)
    {
        var value = new StringBuilder("""{"intValue":"1"}""");
        for (var i = 0; i < depth; i++)
        {
            value.Insert(0, """{"arrayValue":{"values":[""").Append("]}}");
        }

        return OtlpJsonRequest(Fill("""{"traceId":"TRACE","spanId":"SPAN","name":"deep","attributes":[{"key":"deep","value":VALUE}]}""", trace, 1).Replace("VALUE", value.ToString(), StringComparison.Ordinal));
    }

    /// <summary>One OTLP/JSON span with <paramref name="count"/> attributes.</summary>
    public static byte[] OtlpJsonWide(TraceId trace, int count) => OtlpJsonRequest(
        Fill("""{"traceId":"TRACE","spanId":"SPAN","name":"wide","attributes":[VALUE]}""", trace, 1)
            .Replace("VALUE", string.Join(',', Enumerable.Range(0, count).Select(a => """{"key":"K","value":{"intValue":"1"}}""".Replace("K", $"{a}", StringComparison.Ordinal))), StringComparison.Ordinal));

    /// <summary>Zipkin v2 JSON: a list of spans of one trace.</summary>
    public static byte[] ZipkinJson(TraceId trace, int spans = 3) => Encoding.UTF8.GetBytes("[" + string.Join(',', Enumerable.Range(1, spans).Select(i =>
        Fill("""{"traceId":"TRACE","id":"SPAN",PARENT"name":"operation N","kind":"SERVER","timestamp":START,"duration":1000,"localEndpoint":{"serviceName":"SERVICE"},"tags":{"http.method":"GET","error":"boom é"},"annotations":[{"timestamp":START,"value":"ws"}]}""",
            trace, i, $"{(StartNanos / 1000) + i}", "", parentName: "parentId"))) + "]");

    /// <summary>One Zipkin span with <paramref name="count"/> tags.</summary>
    public static byte[] ZipkinJsonWide(TraceId trace, int count) => Encoding.UTF8.GetBytes(
        Fill("""[{"traceId":"TRACE","id":"SPAN","name":"wide","localEndpoint":{"serviceName":"SERVICE"},"tags":{VALUE}}]""", trace, 1)
            .Replace("VALUE", string.Join(',', Enumerable.Range(0, count).Select(a => $"\"{a}\":\"v\"")), StringComparison.Ordinal));

    /// <summary>JSON arrays nested <paramref name="depth"/> deep where a Zipkin span list belongs.</summary>
    public static byte[] ZipkinJsonDeep(int depth) => Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth));

    /// <summary>A JSON template with its placeholders filled (plain text replacement keeps the JSON's braces readable).</summary>
    private static string Fill(string template, TraceId trace, int span, string start = "", string end = "", string parentName = "parentSpanId") => template
        .Replace("TRACE", trace.ToString(), StringComparison.Ordinal)
        .Replace("PARENT", span > 1 ? $"\"{parentName}\":\"{SpanIdHex(1)}\"," : "", StringComparison.Ordinal)
        .Replace("SPAN", SpanIdHex(span), StringComparison.Ordinal)
        .Replace("operation N", $"operation {span}", StringComparison.Ordinal)
        .Replace("START", start, StringComparison.Ordinal)
        .Replace("END", end, StringComparison.Ordinal)
        .Replace("SERVICE", Service, StringComparison.Ordinal);

    private static byte[] OtlpJsonRequest(string spans) => Encoding.UTF8.GetBytes(
        """{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"SERVICE"}}]},"scopeSpans":[{"scope":{"name":"fuzz"},"spans":[SPANS]}]}]}"""
            .Replace("SERVICE", Service, StringComparison.Ordinal).Replace("SPANS", spans, StringComparison.Ordinal));

    /// <summary>ExportTraceServiceRequest { resource_spans { resource { service.name }, scope_spans { spans } } }.</summary>
    private static byte[] Request(byte[] spans)
    {
        var resource = Bytes(1, KeyValue("service.name", Bytes(1, Encoding.UTF8.GetBytes(Service))));
        return Bytes(1, [.. Bytes(1, resource), .. Bytes(2, [.. Bytes(1, Text(1, "fuzz")), .. spans])]);
    }

    private static byte[] KeyValue(string key, byte[] anyValue) => [.. Text(1, key), .. Bytes(2, anyValue)];

    private static byte[] Text(int field, string text) => Bytes(field, Encoding.UTF8.GetBytes(text));

    private static byte[] Bytes(int field, ReadOnlySpan<byte> content)
    {
        var bytes = new List<byte>(content.Length + 6) { (byte)((field << 3) | 2) };
        for (var length = (uint)content.Length; ; length >>= 7)
        {
            if (length < 0x80)
            {
                bytes.Add((byte)length);
                break;
            }

            bytes.Add((byte)(length | 0x80));
        }

        bytes.AddRange(content);
        return [.. bytes];
    }

    private static byte[] Fixed64(int field, long value) => [(byte)((field << 3) | 1), .. BitConverter.GetBytes(value)];

    private static byte[] SpanIdBytes(int i) => BitConverter.GetBytes((ulong)i + 0x0100_0000_0000_0000UL);

    private static string SpanIdHex(int i) => Convert.ToHexStringLower(SpanIdBytes(i));
}
