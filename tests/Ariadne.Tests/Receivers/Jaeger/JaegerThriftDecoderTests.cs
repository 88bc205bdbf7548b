using System.Buffers.Binary;
using Ariadne.Fuzzing;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Receivers.Jaeger;
using Ariadne.Receivers.Jaeger.Thrift;

namespace Ariadne.Tests.Receivers.Jaeger;

/// <summary>
/// The Thrift readers and the Jaeger mapping on bytes real clients wrote (captured once from the programs in
/// Fixtures/go and Fixtures/node, kept in src/Ariadne/Fuzzing/Seeds, where the fuzzers start from them too): the Go OpenTelemetry SDK's Jaeger exporter 1.1.0 (Debian's), agent endpoint
/// (compact, one span per datagram) and collector endpoint (binary over HTTP); the npm jaeger-client 3.19.0's UDP sender
/// (binary, emitBatch). Then hostile bytes: every prefix, huge declared lengths and counts, the wrong protocol.
/// </summary>
public sealed class JaegerThriftDecoderTests
{
    [Fact]
    public void Go_exporter_compact_datagram_maps_kind_typed_tags_error_status_and_event()
    {
        var batch = DecodeAgent("go-agent-compact.bin", compact: true);

        var span = Assert.Single(batch.Spans);
        Assert.Equal("912b2526a7ff4e3e0a159a961c4fd20c", span.TraceId.ToHex());
        Assert.Equal("charge card", span.Name);
        Assert.Equal(SpanKind.Client, span.Kind);
        Assert.False(span.IsRoot);
        Assert.Equal((StatusCode.Error, "card declined"), (span.StatusCode, span.StatusMessage));
        Assert.Equal(1u, span.Flags);
        Assert.True(span.StartTimeUnixNano % 1000 == 0 && span.EndTimeUnixNano >= span.StartTimeUnixNano);
        Assert.Equal("go-agent", span.ServiceName);

        var attributes = span.Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal(AnyValue.FromDouble(99.5), attributes["order.value"]);
        Assert.Equal(AnyValue.FromInt(3), attributes["retry.count"]);
        Assert.Equal(AnyValue.FromBool(false), attributes["cache.hit"]);
        Assert.Equal(AnyValue.FromString("o-42"), attributes["order.id"]);
        // The Thrift path of the translator leaves the library tags as attributes and takes the status tags out.
        Assert.Equal(AnyValue.FromString("ariadne-go-test"), attributes["otel.library.name"]);
        Assert.DoesNotContain(attributes.Keys, k => k is "error" or "otel.status_code" or "otel.status_description" or "span.kind");

        var declined = Assert.Single(span.Events);
        Assert.Equal("payment declined", declined.Name);
        Assert.Equal([KeyValue.String("decline.code", "insufficient_funds")], declined.Attributes);
    }

    [Fact]
    public void Go_exporter_http_body_holds_both_spans_of_the_trace_with_the_sdk_resource()
    {
        var batch = new SpanBatch();
        JaegerThriftDecoder.DecodeBatch(Fixture("go-collector-binary.bin"), new JaegerSpanMapper(batch, proto: false));

        Assert.Equal(2, batch.Spans.Count);
        var parent = batch.Spans.Single(s => s.Name == "GET /checkout");
        var child = batch.Spans.Single(s => s.Name == "charge card");
        Assert.Equal("05aae46937db686e8d707b632bb288ca", parent.TraceId.ToHex());
        Assert.Equal(parent.TraceId, child.TraceId);
        Assert.Equal(parent.SpanId, child.ParentSpanId);
        Assert.True(parent.IsRoot);
        Assert.Empty(child.Links);
        Assert.Equal(SpanKind.Server, parent.Kind);
        Assert.Same(parent.Resource, child.Resource);
        Assert.Equal("unknown_service:adrexample", parent.ServiceName);
        Assert.Contains(KeyValue.String("telemetry.sdk.language", "go"), parent.Resource.Attributes);
    }

    [Fact]
    public void Npm_jaeger_client_binary_datagram_maps_process_tags_parent_log_and_error()
    {
        var batch = DecodeAgent("node-agent-binary.bin", compact: false);

        var parent = batch.Spans.Single(s => s.Name == "GET /checkout");
        var child = batch.Spans.Single(s => s.Name == "charge card");
        Assert.Equal("00000000000000005cc8a4d2e6b0e9ec".Length, child.TraceId.ToHex().Length);
        Assert.Equal(0ul, child.TraceId.High);
        Assert.Equal(parent.SpanId, child.ParentSpanId);
        Assert.Empty(child.Links); // the CHILD_OF reference to the parent is the parent, not a link
        Assert.Equal(SpanKind.Client, child.Kind);
        Assert.Equal(StatusCode.Error, child.StatusCode);
        Assert.DoesNotContain(child.Attributes, a => a.Key == "error");
        Assert.Equal(AnyValue.FromDouble(99.5), child.Attributes.Single(a => a.Key == "order.value").Value);
        Assert.Equal("payment declined", Assert.Single(child.Events).Name);

        var resource = child.Resource.Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal("node-udp", child.ServiceName);
        Assert.Equal(AnyValue.FromString("test"), resource["deployment.environment"]);
        Assert.Equal(AnyValue.FromString("Jaeger-Node-3.19.0"), resource["opencensus.exporterversion"]);
        Assert.True(resource.ContainsKey("host.name"));
        Assert.False(resource.ContainsKey("hostname") || resource.ContainsKey("jaeger.version"));
    }

    [Theory]
    [InlineData("go-agent-compact.bin", true)]
    [InlineData("node-agent-binary.bin", false)]
    public void Every_cut_short_datagram_is_a_format_error(string fixture, bool compact)
    {
        var bytes = Fixture(fixture);
        for (var length = 0; length < bytes.Length; length++)
        {
            var prefix = bytes[..length];
            Assert.Throws<JaegerFormatException>(() => JaegerThriftDecoder.DecodeAgentMessage(prefix, compact, new JaegerSpanMapper(new SpanBatch(), proto: false)));
        }
    }

    [Theory]
    [InlineData("go-agent-compact.bin", true)]
    [InlineData("node-agent-binary.bin", false)]
    [InlineData("go-collector-binary.bin", false)]
    public void Randomly_corrupted_payloads_decode_or_fail_with_a_format_error_and_nothing_else(string fixture, bool compact)
    {
        var original = Fixture(fixture);
        var random = new Random(fixture.Length);
        for (var round = 0; round < 5_000; round++)
        {
            var bytes = (byte[])original.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            var mapper = new JaegerSpanMapper(new SpanBatch(), proto: false);
            var error = Record.Exception(() =>
            {
                if (fixture.StartsWith("go-collector", StringComparison.Ordinal))
                {
                    JaegerThriftDecoder.DecodeBatch(bytes, mapper);
                }
                else
                {
                    JaegerThriftDecoder.DecodeAgentMessage(bytes, compact, mapper);
                }
            });
            Assert.True(error is null or JaegerFormatException, $"round {round}: {error}");
        }
    }

    [Fact]
    public void A_datagram_in_the_other_protocol_is_refused_by_name()
    {
        var binaryAsCompact = Assert.Throws<JaegerFormatException>(() => DecodeAgent("node-agent-binary.bin", compact: true));
        Assert.Contains("compact protocol id 0x82", binaryAsCompact.Message, StringComparison.Ordinal);

        var compactAsBinary = Assert.Throws<JaegerFormatException>(() => DecodeAgent("go-agent-compact.bin", compact: false));
        Assert.Contains("unknown version", compactAsBinary.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_string_declaring_two_gigabytes_is_refused_before_anything_is_allocated()
    {
        // Batch { 1: Process { 1: serviceName = <length 0x7fffffff>, then 4 bytes } }
        byte[] body = [0x0c, 0x00, 0x01, 0x0b, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff, (byte)'a', (byte)'b', (byte)'c', (byte)'d'];
        var error = Assert.Throws<JaegerFormatException>(() => JaegerThriftDecoder.DecodeBatch(body, new JaegerSpanMapper(new SpanBatch(), proto: false)));
        Assert.Contains("needs 2147483647 bytes but only 4 are left", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_list_declaring_more_elements_than_bytes_left_is_refused()
    {
        // Batch { 2: list<struct> of 1,000,000,000 spans, and nothing after }
        var body = new byte[10];
        body[0] = 0x0f;
        body[2] = 0x02;
        body[3] = 0x0c;
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(4), 1_000_000_000);
        var error = Assert.Throws<JaegerFormatException>(() => JaegerThriftDecoder.DecodeBatch(body, new JaegerSpanMapper(new SpanBatch(), proto: false)));
        Assert.Contains("declares 1000000000 elements but only 2 bytes follow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deeply_nested_unknown_fields_are_refused_instead_of_overflowing_the_stack()
    {
        // Batch { 9: struct { 1: struct { 1: struct { ... 100,000 deep: an unknown field skipped recursively.
        var body = new List<byte>();
        for (var i = 0; i < 100_000; i++)
        {
            body.AddRange([0x0c, 0x00, (byte)(i == 0 ? 9 : 1)]);
        }

        var error = Assert.Throws<JaegerFormatException>(() => JaegerThriftDecoder.DecodeBatch(body.ToArray(), new JaegerSpanMapper(new SpanBatch(), proto: false)));
        Assert.Contains("nested more than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_zipkin_batch_on_the_agent_port_is_refused_with_where_to_send_it()
    {
        // The binary envelope of Agent.emitZipkinBatch with an empty argument struct.
        byte[] message = [0x80, 0x01, 0x00, 0x04, 0, 0, 0, 15, .. "emitZipkinBatch"u8, 0, 0, 0, 0, 0];
        var error = Assert.Throws<JaegerFormatException>(() => JaegerThriftDecoder.DecodeAgentMessage(message, compact: false, new JaegerSpanMapper(new SpanBatch(), proto: false)));
        Assert.Contains("Zipkin port", error.Message, StringComparison.Ordinal);
    }

    private static SpanBatch DecodeAgent(string fixture, bool compact)
    {
        var batch = new SpanBatch();
        JaegerThriftDecoder.DecodeAgentMessage(Fixture(fixture), compact, new JaegerSpanMapper(batch, proto: false));
        return batch;
    }

    private static byte[] Fixture(string name) => FuzzSeeds.RealClient(name);
}
