using Ariadne.Pipeline;
using Ariadne.Receivers.Jaeger;
using Ariadne.Receivers.Jaeger.Proto;
using Ariadne.Receivers.Otlp;
using Ariadne.Tests.Jaeger.ApiV2;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using JaegerSpan = Ariadne.Tests.Jaeger.ApiV2.Span;

namespace Ariadne.Tests.Receivers.Jaeger;

/// <summary>The hand-written PostSpansRequest decoder against messages Google.Protobuf writes from jaeger-idl's protos.</summary>
public sealed class JaegerProtoDecoderTests
{
    [Fact]
    public void Every_tag_type_and_a_span_without_a_batch_process_decode_as_the_translator_maps_them()
    {
        var request = new PostSpansRequest { Batch = new Batch { Spans = { Sample() } } };

        var batch = Decode(request.ToByteArray());

        var span = Assert.Single(batch.Spans);
        Assert.Equal(Model.Resource.UnknownService, span.ServiceName);
        var attributes = span.Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal(Model.AnyValue.FromString("s"), attributes["str"]);
        Assert.Equal(Model.AnyValue.FromBool(true), attributes["bool"]);
        Assert.Equal(Model.AnyValue.FromInt(-7), attributes["int"]);
        Assert.Equal(Model.AnyValue.FromDouble(0.25), attributes["float"]);
        Assert.Equal([1, 2, 3], attributes["binary"].AsBytes);
        Assert.Equal(1_765_000_000_123_456_789, span.StartTimeUnixNano);
        Assert.Equal(1_500, span.DurationNanos);
    }

    [Fact]
    public void Randomly_corrupted_requests_decode_or_fail_with_a_format_error_and_nothing_else()
    {
        var original = new PostSpansRequest { Batch = new Batch { Process = new Process { ServiceName = "svc" }, Spans = { Sample(), Sample() } } }.ToByteArray();
        var random = new Random(42);
        for (var round = 0; round < 5_000; round++)
        {
            var bytes = (byte[])original.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            var error = Record.Exception(() => Decode(bytes));
            Assert.True(error is null or JaegerFormatException or OtlpMalformedException, $"round {round}: {error}");
        }
    }

    private static JaegerSpan Sample() => new()
    {
        TraceId = ByteString.CopyFrom(Convert.FromHexString("0102030405060708090a0b0c0d0e0f10")),
        SpanId = ByteString.CopyFrom(Convert.FromHexString("1112131415161718")),
        OperationName = "op",
        StartTime = new Timestamp { Seconds = 1_765_000_000, Nanos = 123_456_789 },
        Duration = new Duration { Nanos = 1_500 },
        Tags =
        {
            new KeyValue { Key = "str", VStr = "s" },
            new KeyValue { Key = "bool", VType = Ariadne.Tests.Jaeger.ApiV2.ValueType.Bool, VBool = true },
            new KeyValue { Key = "int", VType = Ariadne.Tests.Jaeger.ApiV2.ValueType.Int64, VInt64 = -7 },
            new KeyValue { Key = "float", VType = Ariadne.Tests.Jaeger.ApiV2.ValueType.Float64, VFloat64 = 0.25 },
            new KeyValue { Key = "binary", VType = Ariadne.Tests.Jaeger.ApiV2.ValueType.Binary, VBinary = ByteString.CopyFrom(1, 2, 3) },
        },
    };

    private static SpanBatch Decode(byte[] message)
    {
        var batch = new SpanBatch();
        JaegerProtoDecoder.DecodePostSpansRequest(message, new JaegerSpanMapper(batch, proto: true));
        return batch;
    }
}
