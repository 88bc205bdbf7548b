using System.Buffers;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp;
using Ariadne.Receivers.Otlp.Protobuf;
using FsCheck.Xunit;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PCommon = OpenTelemetry.Proto.Common.V1;
using PResource = OpenTelemetry.Proto.Resource.V1;
using PTrace = OpenTelemetry.Proto.Trace.V1;

namespace Ariadne.Tests.Receivers.Otlp;

public sealed class OtlpProtobufDecoderTests
{
    [Property(Arbitrary = [typeof(OtlpArbitraries)], MaxTest = 300)]
    public void Decodes_random_requests_exactly_as_the_generated_parser_reads_them(ExportTraceServiceRequest request) =>
        AssertDecodesLikeGeneratedParser(request.ToByteArray());

    [Property(Arbitrary = [typeof(OtlpArbitraries)], MaxTest = 200)]
    public void Skips_unknown_fields_of_every_wire_type_at_every_level(ExportTraceServiceRequest request, int seed) =>
        AssertDecodesLikeGeneratedParser(UnknownFieldInjector.Inject(request.ToByteArray(), new Random(seed)));

    [Property(Arbitrary = [typeof(OtlpArbitraries)], MaxTest = 300)]
    public void Accepts_and_refuses_corrupted_bytes_as_the_generated_parser_does(ExportTraceServiceRequest request, int seed)
    {
        var random = new Random(seed);
        var bytes = request.ToByteArray();
        if (bytes.Length == 0)
        {
            return;
        }

        switch (random.Next(3))
        {
            case 0:
                bytes = bytes[..random.Next(bytes.Length)];
                break;
            case 1:
                for (var i = random.Next(1, 4); i > 0; i--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                break;
            default:
                var position = random.Next(bytes.Length);
                bytes = [.. bytes[..position], (byte)random.Next(256), .. bytes[position..]];
                break;
        }

        ExportTraceServiceRequest? parsed;
        try
        {
            parsed = ExportTraceServiceRequest.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            parsed = null;
        }

        if (parsed is null)
        {
            Assert.Throws<OtlpMalformedException>(() => OtlpProtobufTraceDecoder.Decode(bytes, new SpanBatch()));
            return;
        }

        AssertDecodesLikeGeneratedParser(bytes);
    }

    [Fact]
    public void An_empty_request_has_no_spans()
    {
        var batch = Decode([]);
        Assert.Empty(batch.Spans);
        Assert.Equal(0, batch.RejectedSpans);
    }

    [Fact]
    public void Empty_resource_and_scope_messages_give_unknown_service_and_the_empty_scope()
    {
        var request = Request(new PTrace.ResourceSpans
        {
            Resource = new PResource.Resource(),
            ScopeSpans = { new PTrace.ScopeSpans { Scope = new PCommon.InstrumentationScope(), Spans = { ValidSpan("a") } } },
        });
        request.ResourceSpans.Add(new PTrace.ResourceSpans { ScopeSpans = { new PTrace.ScopeSpans { Spans = { ValidSpan("b") } } } });

        var batch = Decode(request.ToByteArray());

        Assert.All(batch.Spans, span =>
        {
            Assert.Equal(Resource.UnknownService, span.ServiceName);
            Assert.Same(InstrumentationScope.Empty, span.Scope);
        });
    }

    [Fact]
    public void The_service_name_is_the_string_resource_attribute_service_name()
    {
        var named = Request(ResourceSpans([Attribute("service.name", "checkout")], ValidSpan("a")));
        var numeric = Request(ResourceSpans([new PCommon.KeyValue { Key = "service.name", Value = new PCommon.AnyValue { IntValue = 7 } }], ValidSpan("a")));
        var missing = Request(ResourceSpans([Attribute("host.name", "web-1")], ValidSpan("a")));

        Assert.Equal("checkout", Decode(named.ToByteArray()).Spans.Single().ServiceName);
        Assert.Equal(Resource.UnknownService, Decode(numeric.ToByteArray()).Spans.Single().ServiceName);
        Assert.Equal(Resource.UnknownService, Decode(missing.ToByteArray()).Spans.Single().ServiceName);
    }

    [Fact]
    public void Spans_share_the_resource_and_scope_of_their_resource_spans_and_not_another_ones()
    {
        var request = Request(
            ResourceSpans([Attribute("service.name", "orders")], ValidSpan("a"), ValidSpan("b")),
            ResourceSpans([Attribute("service.name", "payments")], ValidSpan("c")));

        var spans = Decode(request.ToByteArray()).Spans;

        Assert.Equal(["orders", "orders", "payments"], spans.Select(s => s.ServiceName));
        Assert.Same(spans[0].Resource, spans[1].Resource);
        Assert.Same(spans[0].Scope, spans[1].Scope);
        Assert.NotSame(spans[0].Resource, spans[2].Resource);
    }

    [Fact]
    public void A_resource_that_follows_its_spans_on_the_wire_still_applies_to_them()
    {
        // resource_spans { scope_spans {...} resource {...} }: field 2 before field 1.
        var scopeSpans = new PTrace.ScopeSpans { Spans = { ValidSpan("late") } }.ToByteArray();
        var resource = new PResource.Resource { Attributes = { Attribute("service.name", "late-resource") } }.ToByteArray();
        byte[] resourceSpans = [0x12, .. Varint(scopeSpans.Length), .. scopeSpans, 0x0A, .. Varint(resource.Length), .. resource];
        byte[] request = [0x0A, .. Varint(resourceSpans.Length), .. resourceSpans];

        Assert.Equal("late-resource", Decode(request).Spans.Single().ServiceName);
        AssertDecodesLikeGeneratedParser(request);
    }

    [Fact]
    public void Nested_arrays_and_kvlists_and_bytes_values_decode_with_their_types()
    {
        var nested = new PCommon.AnyValue
        {
            KvlistValue = new PCommon.KeyValueList
            {
                Values =
                {
                    Attribute("list", new PCommon.AnyValue
                    {
                        ArrayValue = new PCommon.ArrayValue
                        {
                            Values =
                            {
                                new PCommon.AnyValue { IntValue = -1 },
                                new PCommon.AnyValue { ArrayValue = new PCommon.ArrayValue { Values = { new PCommon.AnyValue { DoubleValue = 2.5 } } } },
                                new PCommon.AnyValue(),
                            },
                        },
                    }),
                    Attribute("bytes", new PCommon.AnyValue { BytesValue = ByteString.CopyFrom(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray()) }),
                    Attribute("empty-array", new PCommon.AnyValue { ArrayValue = new PCommon.ArrayValue() }),
                },
            },
        };
        var span = ValidSpan("nested");
        span.Attributes.Add(Attribute("map", nested));

        var decoded = Decode(Request(ResourceSpans([], span)).ToByteArray()).Spans.Single();

        Assert.True(decoded.TryGetAttribute("map", out var map));
        var entries = map.AsKeyValueList;
        Assert.Equal(AnyValueType.Array, entries[0].Value.Type);
        Assert.Equal(-1, entries[0].Value.AsArray[0].AsInt);
        Assert.Equal(2.5, entries[0].Value.AsArray[1].AsArray[0].AsDouble);
        Assert.Equal(AnyValueType.Empty, entries[0].Value.AsArray[2].Type);
        Assert.Equal(Enumerable.Range(0, 256).Select(i => (byte)i), entries[1].Value.AsBytes);
        Assert.Equal(AnyValueType.Array, entries[2].Value.Type);
        Assert.Empty(entries[2].Value.AsArray);
        AssertDecodesLikeGeneratedParser(Request(ResourceSpans([], span)).ToByteArray());
    }

    [Fact]
    public void Attribute_values_nested_to_the_generated_parsers_limit_decode_and_one_level_more_is_malformed_for_both()
    {
        // The attribute's AnyValue is at depth 5; each array level adds ArrayValue + AnyValue. Find the deepest
        // nesting Google.Protobuf accepts, then check we accept it and refuse one level more, as it does.
        var deepest = Enumerable.Range(1, 60).Last(levels => ParsesWithGeneratedParser(NestedArrayRequest(levels)));

        AssertDecodesLikeGeneratedParser(NestedArrayRequest(deepest));
        Assert.Throws<InvalidProtocolBufferException>(() => ExportTraceServiceRequest.Parser.ParseFrom(NestedArrayRequest(deepest + 1)));
        Assert.Throws<OtlpMalformedException>(() => Decode(NestedArrayRequest(deepest + 1)));
    }

    [Fact]
    public void Hundreds_of_thousands_of_nested_values_are_refused_without_exhausting_the_stack()
    {
        var error = Assert.Throws<OtlpMalformedException>(() => Decode(NestedArrayRequest(300_000)));
        Assert.Contains("nested", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Huge_strings_decode_whole()
    {
        var huge = string.Concat(Enumerable.Repeat("0123456789abcdef日本", 1 << 16));
        var span = ValidSpan(huge);
        span.Attributes.Add(Attribute("sql", huge));
        span.Status = new PTrace.Status { Code = PTrace.Status.Types.StatusCode.Error, Message = huge };

        var decoded = Decode(Request(ResourceSpans([], span)).ToByteArray()).Spans.Single();

        Assert.Equal(huge, decoded.Name);
        Assert.Equal(huge, decoded.Attributes.Single().Value.AsString);
        Assert.Equal(huge, decoded.StatusMessage);
    }

    [Fact]
    public void Unknown_fields_of_every_wire_type_and_known_fields_with_another_wire_type_are_skipped()
    {
        var span = ValidSpan("with-unknowns").ToByteArray();
        byte[] unknowns =
        [
            0x88, 0x01, 0x96, 0x01, // field 17 varint 150
            0x8D, 0x01, 1, 2, 3, 4, // field 17 fixed32
            0x89, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, // field 17 fixed64
            0x8A, 0x01, 0x03, 0x01, 0x96, 0x01, // field 17 packed varints [1, 150]
            0x90, 0x01, 0x01, 0x90, 0x01, 0x02, // field 18 unpacked varints 1, 2
            0x9B, 0x01, 0xA3, 0x01, 0x08, 0x01, 0xA4, 0x01, 0x9C, 0x01, // group 19 { group 20 { field 1 varint } }
            0x08, 0x05, // field 1 (trace_id, bytes) as a varint: unknown
            0x3D, 1, 2, 3, 4, // field 7 (start time, fixed64) as fixed32: unknown
            0x4A, 0x00, // field 9 (attributes) empty message: an attribute with no key and no value
        ];
        byte[] spanBytes = [.. unknowns, .. span, .. unknowns];
        var scopeSpans = new byte[] { 0x12 }.Concat(Varint(spanBytes.Length)).Concat(spanBytes).ToArray();
        byte[] resourceSpans = [.. unknowns, 0x12, .. Varint(scopeSpans.Length), .. scopeSpans];
        byte[] request = [.. unknowns, 0x0A, .. Varint(resourceSpans.Length), .. resourceSpans, .. unknowns];

        var decoded = Decode(request).Spans.Single();

        Assert.Equal("with-unknowns", decoded.Name);
        AssertDecodesLikeGeneratedParser(request);
    }

    [Fact]
    public void Spans_with_ids_of_the_wrong_length_are_rejected_one_by_one()
    {
        var shortTrace = ValidSpan("short-trace");
        shortTrace.TraceId = ByteString.CopyFrom(new byte[8]);
        var noSpanId = ValidSpan("no-span-id");
        noSpanId.SpanId = ByteString.Empty;
        var badParent = ValidSpan("bad-parent");
        badParent.ParentSpanId = ByteString.CopyFrom(new byte[4]);

        var batch = Decode(Request(ResourceSpans([], shortTrace, ValidSpan("good"), noSpanId, badParent)).ToByteArray());

        Assert.Equal("good", batch.Spans.Single().Name);
        Assert.Equal(3, batch.RejectedSpans);
        Assert.Contains("trace_id", batch.RejectionMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x0A }, "length-delimited field without its length")]
    [InlineData(new byte[] { 0x0A, 0x05, 0x12 }, "length past the end")]
    [InlineData(new byte[] { 0x0A, 0x02, 0x12, 0x09 }, "nested length past the end of its parent")]
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF }, "truncated varint")]
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, "varint over 10 bytes")]
    [InlineData(new byte[] { 0x00, 0x01 }, "field number 0")]
    [InlineData(new byte[] { 0x0E }, "wire type 6")]
    [InlineData(new byte[] { 0x0F }, "wire type 7")]
    [InlineData(new byte[] { 0x0C }, "end-group without start")]
    [InlineData(new byte[] { 0x0B, 0x08, 0x01 }, "group without end")]
    [InlineData(new byte[] { 0x0B, 0x14 }, "group closed by another field's end-group")]
    [InlineData(new byte[] { 0x0D, 0x01, 0x02 }, "truncated fixed32")]
    [InlineData(new byte[] { 0x09, 0x01, 0x02, 0x03 }, "truncated fixed64")]
    public void Malformed_protobuf_is_refused_with_a_malformed_error_as_the_generated_parser_refuses_it(byte[] bytes, string what)
    {
        Assert.Throws<InvalidProtocolBufferException>(() => ExportTraceServiceRequest.Parser.ParseFrom(bytes));
        var error = Assert.Throws<OtlpMalformedException>(() => Decode(bytes));
        Assert.False(string.IsNullOrEmpty(error.Message), what);
    }

    [Fact]
    public void A_body_split_across_buffers_decodes_like_a_contiguous_one()
    {
        var bytes = Request(ResourceSpans([Attribute("service.name", "split")], ValidSpan("a"), ValidSpan("b"))).ToByteArray();
        var first = new Segment(bytes.AsMemory(0, 7));
        var last = first.Append(bytes.AsMemory(7, 20)).Append(bytes.AsMemory(27));
        var sequence = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        var batch = new SpanBatch();

        using (var payload = new ContiguousPayload(sequence))
        {
            OtlpProtobufTraceDecoder.Decode(payload.Span, batch);
        }

        ModelAssert.Equal(Decode(bytes).Spans, batch.Spans);
    }

    [Fact]
    public void Repeated_keys_and_names_are_one_string_instance_per_request()
    {
        var a = ValidSpan("GET /cart");
        var b = ValidSpan("GET /cart");
        a.Attributes.Add(Attribute("http.method", "GET"));
        b.Attributes.Add(Attribute("http.method", "GET"));

        var spans = Decode(Request(ResourceSpans([], a, b)).ToByteArray()).Spans;

        Assert.Same(spans[0].Name, spans[1].Name);
        Assert.Same(spans[0].Attributes[0].Key, spans[1].Attributes[0].Key);
        Assert.Same(spans[0].Attributes[0].Value.AsString, spans[1].Attributes[0].Value.AsString);
    }

    [Fact]
    public void Strings_that_differ_in_one_byte_and_more_strings_than_the_intern_table_holds_decode_exactly()
    {
        // Every length up to 70 (exact short keys, long keys compared in full, values past the interning limit),
        // each with variants that differ in one byte at the start, middle or end; then 5,000 distinct keys.
        var keys = new List<string>();
        for (var length = 1; length <= 70; length++)
        {
            foreach (var position in new[] { 0, length / 2, length - 1 })
            {
                foreach (var c in "ab")
                {
                    var chars = Enumerable.Repeat('x', length).ToArray();
                    chars[position] = c;
                    keys.Add(new string(chars));
                }
            }
        }

        keys.AddRange(Enumerable.Range(0, 5000).Select(i => $"key.{i}"));
        var span = ValidSpan("many strings");
        span.Attributes.AddRange(keys.Select(k => Attribute(k, k)));

        var decoded = Decode(Request(ResourceSpans([], span)).ToByteArray()).Spans.Single();

        Assert.Equal(keys, decoded.Attributes.Select(a => a.Key));
        Assert.Equal(keys, decoded.Attributes.Select(a => a.Value.AsString));
    }

    internal static void AssertDecodesLikeGeneratedParser(byte[] bytes)
    {
        var (expected, rejected) = GeneratedParserView.Map(ExportTraceServiceRequest.Parser.ParseFrom(bytes));
        var batch = Decode(bytes);
        ModelAssert.Equal(expected, batch.Spans);
        Assert.Equal(rejected, batch.RejectedSpans);
    }

    internal static PTrace.Span ValidSpan(string name) => new()
    {
        TraceId = ByteString.CopyFrom(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray()),
        SpanId = ByteString.CopyFrom(Enumerable.Range(1, 8).Select(i => (byte)i).ToArray()),
        Name = name,
        Kind = PTrace.Span.Types.SpanKind.Server,
        StartTimeUnixNano = 1_700_000_000_000_000_000,
        EndTimeUnixNano = 1_700_000_000_100_000_000,
    };

    internal static PCommon.KeyValue Attribute(string key, string value) => new() { Key = key, Value = new PCommon.AnyValue { StringValue = value } };

    internal static PCommon.KeyValue Attribute(string key, PCommon.AnyValue value) => new() { Key = key, Value = value };

    internal static PTrace.ResourceSpans ResourceSpans(PCommon.KeyValue[] resourceAttributes, params PTrace.Span[] spans)
    {
        var resourceSpans = new PTrace.ResourceSpans
        {
            Resource = new PResource.Resource(),
            ScopeSpans = { new PTrace.ScopeSpans { Scope = new PCommon.InstrumentationScope { Name = "tests", Version = "1.0" } } },
        };
        resourceSpans.Resource.Attributes.AddRange(resourceAttributes);
        resourceSpans.ScopeSpans[0].Spans.AddRange(spans);
        return resourceSpans;
    }

    internal static ExportTraceServiceRequest Request(params PTrace.ResourceSpans[] resourceSpans)
    {
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.AddRange(resourceSpans);
        return request;
    }

    private static SpanBatch Decode(byte[] bytes)
    {
        var batch = new SpanBatch();
        OtlpProtobufTraceDecoder.Decode(bytes, batch);
        return batch;
    }

    private static bool ParsesWithGeneratedParser(byte[] bytes)
    {
        try
        {
            ExportTraceServiceRequest.Parser.ParseFrom(bytes);
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }

    /// <summary>
    /// A request whose one attribute value is an array nested <paramref name="levels"/> deep, written from the
    /// inside out in one pass (lengths first), so even 300,000 levels take linear time.
    /// </summary>
    private static byte[] NestedArrayRequest(int levels)
    {
        // anyValueLength[k]: the AnyValue holding k array levels; arrayLength[k]: the ArrayValue inside it.
        var anyValueLength = new long[levels + 1];
        var arrayLength = new long[levels + 1];
        for (var k = 1; k <= levels; k++)
        {
            arrayLength[k] = 1 + Varint(anyValueLength[k - 1]).Length + anyValueLength[k - 1];
            anyValueLength[k] = 1 + Varint(arrayLength[k]).Length + arrayLength[k];
        }

        var value = new List<byte>((int)anyValueLength[levels]);
        for (var k = levels; k >= 1; k--)
        {
            value.Add(0x2A); // AnyValue.array_value
            value.AddRange(Varint(arrayLength[k]));
            value.Add(0x0A); // ArrayValue.values
            value.AddRange(Varint(anyValueLength[k - 1]));
        }

        byte[] keyValue = [0x0A, 0x01, (byte)'k', 0x12, .. Varint(value.Count), .. value];
        var span = ValidSpan("deep").ToByteArray();
        byte[] spanBytes = [.. span, 0x4A, .. Varint(keyValue.Length), .. keyValue];
        byte[] scopeSpans = [0x12, .. Varint(spanBytes.Length), .. spanBytes];
        byte[] resourceSpans = [0x12, .. Varint(scopeSpans.Length), .. scopeSpans];
        return [0x0A, .. Varint(resourceSpans.Length), .. resourceSpans];
    }

    internal static byte[] Varint(long value)
    {
        var bytes = new List<byte>();
        var v = (ulong)value;
        while (v >= 0x80)
        {
            bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }

        bytes.Add((byte)v);
        return [.. bytes];
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
