using System.Text;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp;
using Ariadne.Receivers.Otlp.Json;
using FsCheck.Xunit;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Ariadne.Tests.Receivers.Otlp;

public sealed class OtlpJsonDecoderTests
{
    [Property(Arbitrary = [typeof(OtlpArbitraries)], MaxTest = 300)]
    public void Decodes_random_requests_in_every_spelling_the_spec_allows_as_the_generated_parser_reads_the_protobuf(ExportTraceServiceRequest request, int seed)
    {
        // JSON has one NaN: the payload bits a protobuf double can carry are lost.
        CanonicalizeNaNs(request);
        var json = new OtlpJsonTestWriter(new Random(seed)).Write(request);
        var (expected, rejected) = GeneratedParserView.Map(request);

        var batch = Decode(json);

        ModelAssert.Equal(expected, batch.Spans);
        Assert.Equal(rejected, batch.RejectedSpans);
    }

    [Fact]
    public void Decodes_the_example_request_of_the_otlp_specification_shape()
    {
        var batch = Decode("""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
              "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute","value":{"stringValue":"some scope attribute"}}]},
                "spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"EEE19B7EC3C1B173",
                  "name":"I'm a server span","startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000","kind":2,
                  "attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}},{"key":"count","value":{"intValue":42}},
                    {"key":"ratio","value":{"doubleValue":"Infinity"}},{"key":"ok","value":{"boolValue":true}},{"key":"raw","value":{"bytesValue":"AQID"}}],
                  "events":[{"timeUnixNano":1544712660500000000,"name":"cache miss","attributes":[{"key":"key","value":{"stringValue":"cart:42"}}]}],
                  "status":{"code":2,"message":"boom"}}]}]}]}
            """);

        var span = batch.Spans.Single();
        Assert.Equal("5b8efff798038103d269b633813fc60c", span.TraceId.ToHex());
        Assert.Equal("eee19b7ec3c1b174", span.SpanId.ToHex());
        Assert.Equal("eee19b7ec3c1b173", span.ParentSpanId.ToHex());
        Assert.Equal("my.service", span.ServiceName);
        Assert.Equal("my.library", span.Scope.Name);
        Assert.Equal(SpanKind.Server, span.Kind);
        Assert.Equal(1_000_000_000, span.DurationNanos);
        Assert.Equal(42, span.Attributes[1].Value.AsInt);
        Assert.Equal(double.PositiveInfinity, span.Attributes[2].Value.AsDouble);
        Assert.True(span.Attributes[3].Value.AsBool);
        Assert.Equal([1, 2, 3], span.Attributes[4].Value.AsBytes);
        Assert.Equal("cache miss", span.Events.Single().Name);
        Assert.Equal(StatusCode.Error, span.StatusCode);
        Assert.Equal("boom", span.StatusMessage);
    }

    [Fact]
    public void Nulls_mean_unset_and_unknown_fields_are_ignored()
    {
        var batch = Decode("""
            {"resourceSpans":[{"resource":null,"futureField":{"a":[1,{"b":null}]},"scopeSpans":[{"scope":null,"spans":[
              {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","parentSpanId":null,"name":null,"kind":null,
               "attributes":[{"key":"k","value":{"stringValue":null}},{"key":"n","value":null}],"status":null,"links":null,"events":null,"x":true}]}]}],
             "extra":"ignored"}
            """);

        var span = batch.Spans.Single();
        Assert.Equal(Resource.UnknownService, span.ServiceName);
        Assert.True(span.IsRoot);
        Assert.Equal(string.Empty, span.Name);
        Assert.All(span.Attributes, a => Assert.Equal(AnyValueType.Empty, a.Value.Type));
    }

    [Fact]
    public void Ids_that_are_not_hex_of_the_right_length_reject_their_span_only()
    {
        var batch = Decode("""
            {"resourceSpans":[{"scopeSpans":[{"spans":[
              {"traceId":"AQIDBAUGBwgJCgsMDQ4PEA==","spanId":"0102030405060708","name":"base64 trace id"},
              {"traceId":"0102030405060708090a0b0c0d0e0f1g","spanId":"0102030405060708","name":"not hex"},
              {"traceId":"","spanId":"0102030405060708","name":"empty"},
              {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"01020304050607","name":"short span id"},
              {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"good"}]}]}]}
            """);

        Assert.Equal("good", batch.Spans.Single().Name);
        Assert.Equal(4, batch.RejectedSpans);
    }

    [Theory]
    [InlineData("", "empty body")]
    [InlineData("[]", "not an object")]
    [InlineData("{\"resourceSpans\":{}}", "resourceSpans not an array")]
    [InlineData("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":42}]}]}]}", "name not a string")]
    [InlineData("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"soon\"}]}]}]}", "time not a number")]
    [InlineData("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":1.5}}]}]}]}]}", "fractional int")]
    [InlineData("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":{\"bytesValue\":\"%%%\"}}]}]}]}]}", "bad base64")]
    [InlineData("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"droppedAttributesCount\":4294967296}]}]}]}", "uint32 overflow")]
    [InlineData("{\"resourceSpans\":[", "truncated")]
    [InlineData("{\"resourceSpans\":[]} trailing", "trailing data")]
    public void Malformed_json_is_refused_with_a_message(string json, string what)
    {
        var error = Assert.Throws<OtlpMalformedException>(() => Decode(json));
        Assert.False(string.IsNullOrEmpty(error.Message), what);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_malformed_not_a_stack_overflow()
    {
        var depth = 100_000;
        var json = new StringBuilder("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":");
        for (var i = 0; i < depth; i++)
        {
            json.Append("{\"arrayValue\":{\"values\":[");
        }

        Assert.Throws<OtlpMalformedException>(() => Decode(json.ToString()));
    }

    [Fact]
    public void Invalid_utf8_in_a_string_is_malformed()
    {
        byte[] raw = [.. "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\""u8, 0xC3, 0x28, .. "\"}]}]}]}"u8];
        byte[] escaped = [.. "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"\\n"u8, 0xC3, 0x28, .. "\"}]}]}]}"u8];
        Assert.Throws<OtlpMalformedException>(() => Decode(raw));
        Assert.Throws<OtlpMalformedException>(() => Decode(escaped));
    }

    private static void CanonicalizeNaNs(IMessage message)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            var value = field.Accessor.GetValue(message);
            if (value is double d && double.IsNaN(d) && (field.ContainingOneof is null || field.Accessor.HasValue(message)))
            {
                field.Accessor.SetValue(message, double.NaN);
            }
            else if (value is IMessage child)
            {
                CanonicalizeNaNs(child);
            }
            else if (value is System.Collections.IEnumerable list and not string and not ByteString)
            {
                foreach (var item in list.OfType<IMessage>())
                {
                    CanonicalizeNaNs(item);
                }
            }
        }
    }

    private static SpanBatch Decode(string json) => Decode(Encoding.UTF8.GetBytes(json));

    private static SpanBatch Decode(byte[] json)
    {
        var batch = new SpanBatch();
        OtlpJsonTraceDecoder.Decode(json, batch);
        return batch;
    }
}
