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

    /// <summary>
    /// A payload a real client wrote, kept in Fuzzing/Seeds (embedded): <c>go-agent-compact.bin</c> (the Go OpenTelemetry
    /// SDK's Jaeger exporter, agent datagram, Thrift compact), <c>go-collector-binary.bin</c> (the same exporter's HTTP
    /// body, a Thrift binary Batch), <c>node-agent-binary.bin</c> (npm jaeger-client 3.19, agent datagram, Thrift binary).
    /// </summary>
    public static byte[] RealClient(string name)
    {
        using var stream = typeof(FuzzSeeds).Assembly.GetManifestResourceStream("fuzz-seeds/" + name)
            ?? throw new ArgumentException($"no real client's payload '{name}' in Fuzzing/Seeds.", nameof(name));
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// A jaeger.api_v2.PostSpansRequest (protobuf) of one trace, shaped as the Collector's Jaeger exporter writes it:
    /// a batch process with tags, spans with a CHILD_OF reference, tags of every type, and a log.
    /// </summary>
    public static byte[] JaegerProto(TraceId trace, int spans = 3)
    {
        var all = new List<byte>();
        for (var i = 1; i <= spans; i++)
        {
            var span = new List<byte>();
            span.AddRange(Bytes(1, trace.ToBytes()));
            span.AddRange(Bytes(2, SpanIdBytes(i)));
            span.AddRange(Text(3, $"operation {i}"));
            if (i > 1)
            {
                span.AddRange(Bytes(4, [.. Bytes(1, trace.ToBytes()), .. Bytes(2, SpanIdBytes(1)), .. Varint(3, 0)])); // CHILD_OF
            }

            span.AddRange(Varint(5, 1)); // sampled
            span.AddRange(Bytes(6, [.. Varint(1, 1_700_000_000), .. Varint(2, (ulong)i)])); // start_time
            span.AddRange(Bytes(7, Varint(2, 1_000_000))); // duration: 1 ms
            span.AddRange(Bytes(8, [.. Text(1, "span.kind"), .. Text(3, "server")]));
            span.AddRange(Bytes(8, [.. Text(1, "http.status_code"), .. Varint(2, 2), .. Varint(5, 200)])); // INT64
            span.AddRange(Bytes(8, [.. Text(1, "error"), .. Varint(2, 1), .. Varint(4, 1)])); // BOOL
            span.AddRange(Bytes(8, [.. Text(1, "ratio"), .. Varint(2, 3), .. Fixed64(6, BitConverter.DoubleToInt64Bits(0.25))])); // FLOAT64
            span.AddRange(Bytes(8, [.. Text(1, "blob"), .. Varint(2, 4), .. Bytes(7, [1, 2, 3])])); // BINARY
            span.AddRange(Bytes(9, [.. Bytes(1, Varint(1, 1_700_000_000)), .. Bytes(2, [.. Text(1, "event"), .. Text(3, "retry é")])]));
            all.AddRange(Bytes(1, [.. span]));
        }

        var process = Bytes(2, [.. Text(1, Service), .. Bytes(2, [.. Text(1, "hostname"), .. Text(3, "fuzz-host")])]);
        return Bytes(1, [.. process, .. all]);
    }

    /// <summary>Queries of the search language (docs/search.md), each valid.</summary>
    public static string[] SearchQueries { get; } =
    [
        """{ service = "orders" && http.status_code >= 500 } >> { service = "payments" && status = error }""",
        """{ payment.method =~ "amex|discover" && duration > 800ms }""",
        """{ customer.tier = "gold" } && { service = "payments" && !(payment.method = "amex") }""",
        """{ resource.host.name = "orders-1" } || ({ kind = server && (http.route = "/checkout" || http.route = "/cart") } > { name = "charge" })""",
        "{ }",
    ];

    /// <summary>Query strings of Jaeger's /api/traces search, each valid (times in µs, durations in Go's syntax).</summary>
    public static string[] JaegerQueryStrings { get; } =
    [
        "service=orders&operation=checkout&start=1700000000000000&end=1700000360000000&limit=20&minDuration=1.5ms&maxDuration=2s&tag=http.status_code:500&tags=%7B%22error%22%3A%22true%22%7D",
        "traceID=0102030405060708090a0b0c0d0e0f10&traceID=1112&raw=true",
        "service=payments&lookback=1h&tag=a:b:c&prettyPrint=true",
    ];

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

    private static byte[] Varint(int field, ulong value)
    {
        var bytes = new List<byte>(11) { (byte)(field << 3) };
        for (; value >= 0x80; value >>= 7)
        {
            bytes.Add((byte)(value | 0x80));
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static byte[] Fixed64(int field, long value) => [(byte)((field << 3) | 1), .. BitConverter.GetBytes(value)];

    private static byte[] SpanIdBytes(int i) => BitConverter.GetBytes((ulong)i + 0x0100_0000_0000_0000UL);

    private static string SpanIdHex(int i) => Convert.ToHexStringLower(SpanIdBytes(i));
}
