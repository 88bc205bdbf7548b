using System.Text;
using Ariadne.Model;
using Ariadne.Receivers.Otlp.Protobuf;

namespace Ariadne.Receivers.Jaeger.Proto;

/// <summary>
/// Decodes <c>jaeger.api_v2.PostSpansRequest</c> (field numbers from jaegertracing/jaeger-idl
/// <c>proto/api_v2/collector.proto</c> and <c>model.proto</c>) with the OTLP receiver's <see cref="ProtobufReader"/>,
/// which throws <see cref="Otlp.OtlpMalformedException"/> on broken wire format. Ids must be 16 (trace) and 8 (span)
/// bytes, as Jaeger's own unmarshaller requires.
/// </summary>
internal static class JaegerProtoDecoder
{
    private const uint BatchField = 1; // PostSpansRequest.batch
    private const uint BatchSpans = 1;
    private const uint BatchProcess = 2;

    public static void DecodePostSpansRequest(ReadOnlySpan<byte> message, JaegerSpanMapper mapper)
    {
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            if (tag >> 3 == BatchField && (tag & 7) == WireType.Len)
            {
                DecodeBatch(reader.ReadLengthDelimited(), mapper);
            }
            else
            {
                reader.SkipField(tag);
            }
        }
    }

    private static void DecodeBatch(ReadOnlySpan<byte> message, JaegerSpanMapper mapper)
    {
        // The batch's process may follow its spans on the wire, so find it first.
        var tags = new List<KeyValue>();
        Resource? resource = null;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            if (tag >> 3 == BatchProcess && (tag & 7) == WireType.Len)
            {
                resource = DecodeProcess(reader.ReadLengthDelimited(), mapper, tags);
            }
            else
            {
                reader.SkipField(tag);
            }
        }

        resource ??= mapper.CreateResource(string.Empty, tags);
        var span = new JaegerSpan();
        reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            if (tag >> 3 == BatchSpans && (tag & 7) == WireType.Len)
            {
                span.Reset();
                DecodeSpan(reader.ReadLengthDelimited(), span, mapper, tags);
                mapper.Add(span, resource);
            }
            else
            {
                reader.SkipField(tag);
            }
        }
    }

    private static Resource DecodeProcess(ReadOnlySpan<byte> message, JaegerSpanMapper mapper, List<KeyValue> tags)
    {
        var serviceName = string.Empty;
        tags.Clear();
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case 1 << 3 | WireType.Len:
                    serviceName = Encoding.UTF8.GetString(reader.ReadLengthDelimited());
                    break;
                case 2 << 3 | WireType.Len:
                    tags.Add(DecodeKeyValue(reader.ReadLengthDelimited()));
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        return mapper.CreateResource(serviceName, tags);
    }

    private static void DecodeSpan(ReadOnlySpan<byte> message, JaegerSpan span, JaegerSpanMapper mapper, List<KeyValue> scratch)
    {
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case 1 << 3 | WireType.Len:
                    span.TraceId = ReadTraceId(reader.ReadLengthDelimited(), "span's trace_id");
                    break;
                case 2 << 3 | WireType.Len:
                    span.SpanId = ReadSpanId(reader.ReadLengthDelimited(), "span's span_id");
                    break;
                case 3 << 3 | WireType.Len:
                    span.OperationName = Encoding.UTF8.GetString(reader.ReadLengthDelimited());
                    break;
                case 4 << 3 | WireType.Len:
                    span.References.Add(DecodeReference(reader.ReadLengthDelimited()));
                    break;
                case 5 << 3 | WireType.Varint:
                    span.Flags = (int)reader.ReadVarint();
                    break;
                case 6 << 3 | WireType.Len:
                    span.StartTimeUnixNano = DecodeTimestamp(reader.ReadLengthDelimited());
                    break;
                case 7 << 3 | WireType.Len:
                    span.DurationNanos = DecodeTimestamp(reader.ReadLengthDelimited());
                    break;
                case 8 << 3 | WireType.Len:
                    span.Tags.Add(DecodeKeyValue(reader.ReadLengthDelimited()));
                    break;
                case 9 << 3 | WireType.Len:
                    DecodeLog(reader.ReadLengthDelimited(), span);
                    break;
                case 10 << 3 | WireType.Len:
                    span.Process = DecodeProcess(reader.ReadLengthDelimited(), mapper, scratch);
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }
    }

    private static JaegerReference DecodeReference(ReadOnlySpan<byte> message)
    {
        TraceId traceId = default;
        SpanId spanId = default;
        ulong refType = 0;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case 1 << 3 | WireType.Len:
                    traceId = ReadTraceId(reader.ReadLengthDelimited(), "reference's trace_id");
                    break;
                case 2 << 3 | WireType.Len:
                    spanId = ReadSpanId(reader.ReadLengthDelimited(), "reference's span_id");
                    break;
                case 3 << 3 | WireType.Varint:
                    refType = reader.ReadVarint();
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        return new JaegerReference(refType == 1, traceId, spanId);
    }

    private static void DecodeLog(ReadOnlySpan<byte> message, JaegerSpan span)
    {
        long time = 0;
        var first = span.LogFields.Count;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case 1 << 3 | WireType.Len:
                    time = DecodeTimestamp(reader.ReadLengthDelimited());
                    break;
                case 2 << 3 | WireType.Len:
                    span.LogFields.Add(DecodeKeyValue(reader.ReadLengthDelimited()));
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        span.Logs.Add(new JaegerLog(time, first, span.LogFields.Count - first));
    }

    private static KeyValue DecodeKeyValue(ReadOnlySpan<byte> message)
    {
        var key = string.Empty;
        ulong vType = 0;
        ReadOnlySpan<byte> vStr = default, vBinary = default;
        var vBool = false;
        long vInt = 0;
        double vDouble = 0;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case 1 << 3 | WireType.Len:
                    key = Encoding.UTF8.GetString(reader.ReadLengthDelimited());
                    break;
                case 2 << 3 | WireType.Varint:
                    vType = reader.ReadVarint();
                    break;
                case 3 << 3 | WireType.Len:
                    vStr = reader.ReadLengthDelimited();
                    break;
                case 4 << 3 | WireType.Varint:
                    vBool = reader.ReadVarint() != 0;
                    break;
                case 5 << 3 | WireType.Varint:
                    vInt = (long)reader.ReadVarint();
                    break;
                case 6 << 3 | WireType.Fixed64:
                    vDouble = BitConverter.Int64BitsToDouble((long)reader.ReadFixed64());
                    break;
                case 7 << 3 | WireType.Len:
                    vBinary = reader.ReadLengthDelimited();
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        // model.proto's ValueType: STRING, BOOL, INT64, FLOAT64, BINARY.
        return vType switch
        {
            0 => KeyValue.String(key, Encoding.UTF8.GetString(vStr)),
            1 => KeyValue.Bool(key, vBool),
            2 => KeyValue.Int(key, vInt),
            3 => KeyValue.Double(key, vDouble),
            4 => new KeyValue(key, AnyValue.FromBytes(vBinary.ToArray())),
            // Go's %q of the generated enum's String(), which is the number for a value outside it.
            _ => KeyValue.String(key, $"<Unknown Jaeger TagType \"{vType}\">"),
        };
    }

    /// <summary>google.protobuf.Timestamp or Duration (1: seconds, 2: nanos) as nanoseconds.</summary>
    private static long DecodeTimestamp(ReadOnlySpan<byte> message)
    {
        long seconds = 0, nanos = 0;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case 1 << 3 | WireType.Varint:
                    seconds = (long)reader.ReadVarint();
                    break;
                case 2 << 3 | WireType.Varint:
                    nanos = (int)reader.ReadVarint();
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        return unchecked((seconds * 1_000_000_000) + nanos);
    }

    private static TraceId ReadTraceId(ReadOnlySpan<byte> bytes, string what)
    {
        if (bytes.Length != TraceId.ByteLength)
        {
            JaegerFormatException.Throw($"the {what} has {bytes.Length} bytes; a Jaeger trace id has 16 (high then low, big-endian)");
        }

        return TraceId.FromBytes(bytes);
    }

    private static SpanId ReadSpanId(ReadOnlySpan<byte> bytes, string what)
    {
        if (bytes.Length != SpanId.ByteLength)
        {
            JaegerFormatException.Throw($"the {what} has {bytes.Length} bytes; a Jaeger span id has 8 (big-endian)");
        }

        return SpanId.FromBytes(bytes);
    }
}
