using Ariadne.Model;

namespace Ariadne.Receivers.Jaeger.Thrift;

/// <summary>
/// Decodes jaeger.thrift's <c>Batch</c> (field ids from jaegertracing/jaeger-idl <c>thrift/jaeger.thrift</c>), either
/// alone (the collector's HTTP body, binary protocol) or inside the agent's <c>emitBatch</c> call (a UDP datagram,
/// compact or binary: <c>thrift/agent.thrift</c>). Spans go to a <see cref="JaegerSpanMapper"/> one at a time.
/// Fields of the wrong type and unknown fields are skipped, as Thrift's generated readers do.
/// </summary>
internal static class JaegerThriftDecoder
{
    private const byte MessageCall = 1;
    private const byte MessageOneway = 4;

    /// <summary>One agent datagram: the <c>emitBatch</c> message (oneway, or call as older clients send it).</summary>
    public static void DecodeAgentMessage(ReadOnlySpan<byte> payload, bool compact, JaegerSpanMapper mapper)
    {
        var reader = new ThriftReader(payload, compact);
        var (name, type) = reader.ReadMessageBegin();
        if (name == "emitZipkinBatch")
        {
            JaegerFormatException.Throw("emitZipkinBatch (Zipkin Thrift spans) is not accepted; send Zipkin v2 JSON or proto3 to the Zipkin port, or jaeger.thrift spans with emitBatch");
        }

        if (name != "emitBatch" || type is not (MessageCall or MessageOneway))
        {
            JaegerFormatException.Throw($"the message is '{ErrorExcerpt.Of(name)}' of type {type}; the agent ports take only the Agent service's emitBatch call");
        }

        // emitBatch's arguments: 1: jaeger.Batch batch.
        var found = false;
        short last = 0;
        while (reader.ReadFieldBegin(ref last, out var fieldType, out var id))
        {
            if (id == 1 && fieldType == ThriftType.Struct)
            {
                ReadBatch(ref reader, mapper);
                found = true;
            }
            else
            {
                reader.Skip(fieldType);
            }
        }

        if (!found)
        {
            JaegerFormatException.Throw("the emitBatch call has no batch argument (field 1)");
        }
    }

    /// <summary>A <c>Batch</c> struct alone, as the collector's <c>POST /api/traces</c> takes it (binary protocol).</summary>
    public static void DecodeBatch(ReadOnlySpan<byte> payload, JaegerSpanMapper mapper)
    {
        var reader = new ThriftReader(payload, compact: false);
        ReadBatch(ref reader, mapper);
        if (reader.Remaining != 0)
        {
            JaegerFormatException.Throw($"{reader.Remaining} bytes follow the batch; the body must hold exactly one jaeger.thrift Batch");
        }
    }

    private static void ReadBatch(ref ThriftReader reader, JaegerSpanMapper mapper)
    {
        var span = new JaegerSpan();
        var tags = new List<KeyValue>();
        Resource? resource = null;
        var spans = mapper.Batch.Spans;
        var firstSpan = spans.Count;
        short last = 0;
        while (reader.ReadFieldBegin(ref last, out var type, out var id))
        {
            switch (id)
            {
                case 1 when type == ThriftType.Struct:
                    resource = ReadProcess(ref reader, mapper, tags);
                    break;
                case 2 when type == ThriftType.List:
                    var (elementType, count) = reader.ReadListBegin();
                    for (var i = 0; i < count; i++)
                    {
                        if (elementType != ThriftType.Struct)
                        {
                            reader.Skip(elementType);
                            continue;
                        }

                        span.Reset();
                        ReadSpan(ref reader, span);
                        // A process written after the spans (Thrift allows any field order) is set on them below.
                        mapper.Add(span, resource ?? Placeholder);
                    }

                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }

        resource ??= mapper.CreateResource(string.Empty, tags);
        for (var i = firstSpan; i < spans.Count; i++)
        {
            if (ReferenceEquals(spans[i].Resource, Placeholder))
            {
                spans[i].Resource = resource;
            }
        }
    }

    private static readonly Resource Placeholder = new() { ServiceName = Resource.UnknownService };

    private static Resource ReadProcess(ref ThriftReader reader, JaegerSpanMapper mapper, List<KeyValue> tags)
    {
        var serviceName = string.Empty;
        tags.Clear();
        short last = 0;
        while (reader.ReadFieldBegin(ref last, out var type, out var id))
        {
            switch (id)
            {
                case 1 when type == ThriftType.String:
                    serviceName = reader.ReadString();
                    break;
                case 2 when type == ThriftType.List:
                    ReadTags(ref reader, tags);
                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }

        return mapper.CreateResource(serviceName, tags);
    }

    private static void ReadSpan(ref ThriftReader reader, JaegerSpan span)
    {
        long traceIdLow = 0, traceIdHigh = 0, startMicros = 0, durationMicros = 0;
        short last = 0;
        while (reader.ReadFieldBegin(ref last, out var type, out var id))
        {
            switch (id)
            {
                case 1 when type == ThriftType.I64:
                    traceIdLow = reader.ReadI64();
                    break;
                case 2 when type == ThriftType.I64:
                    traceIdHigh = reader.ReadI64();
                    break;
                case 3 when type == ThriftType.I64:
                    span.SpanId = new SpanId((ulong)reader.ReadI64());
                    break;
                case 4 when type == ThriftType.I64:
                    span.ParentSpanId = new SpanId((ulong)reader.ReadI64());
                    break;
                case 5 when type == ThriftType.String:
                    span.OperationName = reader.ReadString();
                    break;
                case 6 when type == ThriftType.List:
                    ReadReferences(ref reader, span);
                    break;
                case 7 when type == ThriftType.I32:
                    span.Flags = reader.ReadI32();
                    break;
                case 8 when type == ThriftType.I64:
                    startMicros = reader.ReadI64();
                    break;
                case 9 when type == ThriftType.I64:
                    durationMicros = reader.ReadI64();
                    break;
                case 10 when type == ThriftType.List:
                    ReadTags(ref reader, span.Tags);
                    break;
                case 11 when type == ThriftType.List:
                    ReadLogs(ref reader, span);
                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }

        span.TraceId = new TraceId((ulong)traceIdHigh, (ulong)traceIdLow);
        // The translator multiplies as uint64: times are µs since the epoch, never negative in practice.
        span.StartTimeUnixNano = unchecked(startMicros * 1000);
        span.DurationNanos = unchecked(durationMicros * 1000);
    }

    private static void ReadReferences(ref ThriftReader reader, JaegerSpan span)
    {
        var (elementType, count) = reader.ReadListBegin();
        for (var i = 0; i < count; i++)
        {
            if (elementType != ThriftType.Struct)
            {
                reader.Skip(elementType);
                continue;
            }

            int refType = 0;
            long low = 0, high = 0, spanId = 0;
            short last = 0;
            while (reader.ReadFieldBegin(ref last, out var type, out var id))
            {
                switch (id)
                {
                    case 1 when type == ThriftType.I32:
                        refType = reader.ReadI32();
                        break;
                    case 2 when type == ThriftType.I64:
                        low = reader.ReadI64();
                        break;
                    case 3 when type == ThriftType.I64:
                        high = reader.ReadI64();
                        break;
                    case 4 when type == ThriftType.I64:
                        spanId = reader.ReadI64();
                        break;
                    default:
                        reader.Skip(type);
                        break;
                }
            }

            span.References.Add(new JaegerReference(refType == 1, new TraceId((ulong)high, (ulong)low), new SpanId((ulong)spanId)));
        }
    }

    private static void ReadLogs(ref ThriftReader reader, JaegerSpan span)
    {
        var (elementType, count) = reader.ReadListBegin();
        for (var i = 0; i < count; i++)
        {
            if (elementType != ThriftType.Struct)
            {
                reader.Skip(elementType);
                continue;
            }

            long micros = 0;
            var first = span.LogFields.Count;
            short last = 0;
            while (reader.ReadFieldBegin(ref last, out var type, out var id))
            {
                switch (id)
                {
                    case 1 when type == ThriftType.I64:
                        micros = reader.ReadI64();
                        break;
                    case 2 when type == ThriftType.List:
                        ReadTags(ref reader, span.LogFields);
                        break;
                    default:
                        reader.Skip(type);
                        break;
                }
            }

            span.Logs.Add(new JaegerLog(unchecked(micros * 1000), first, span.LogFields.Count - first));
        }
    }

    private static void ReadTags(ref ThriftReader reader, List<KeyValue> tags)
    {
        var (elementType, count) = reader.ReadListBegin();
        for (var i = 0; i < count; i++)
        {
            if (elementType != ThriftType.Struct)
            {
                reader.Skip(elementType);
                continue;
            }

            tags.Add(ReadTag(ref reader));
        }
    }

    private static KeyValue ReadTag(ref ThriftReader reader)
    {
        var key = string.Empty;
        var vType = 0;
        string? vStr = null;
        double vDouble = 0;
        bool vBool = false;
        long vLong = 0;
        byte[]? vBinary = null;
        short last = 0;
        while (reader.ReadFieldBegin(ref last, out var type, out var id))
        {
            switch (id)
            {
                case 1 when type == ThriftType.String:
                    key = reader.ReadString();
                    break;
                case 2 when type == ThriftType.I32:
                    vType = reader.ReadI32();
                    break;
                case 3 when type == ThriftType.String:
                    vStr = reader.ReadString();
                    break;
                case 4 when type == ThriftType.Double:
                    vDouble = reader.ReadDouble();
                    break;
                case 5 when type == ThriftType.Bool:
                    vBool = reader.ReadBool();
                    break;
                case 6 when type == ThriftType.I64:
                    vLong = reader.ReadI64();
                    break;
                case 7 when type == ThriftType.String:
                    vBinary = reader.ReadBinary().ToArray();
                    break;
                default:
                    reader.Skip(type);
                    break;
            }
        }

        // jaeger.thrift's TagType: STRING, DOUBLE, BOOL, LONG, BINARY.
        return vType switch
        {
            0 => KeyValue.String(key, vStr ?? string.Empty),
            1 => KeyValue.Double(key, vDouble),
            2 => KeyValue.Bool(key, vBool),
            3 => KeyValue.Int(key, vLong),
            4 => new KeyValue(key, AnyValue.FromBytes(vBinary ?? [])),
            // Go's %q of the generated enum's String(), which is "<UNSET>" for a value outside it.
            _ => KeyValue.String(key, "<Unknown Jaeger TagType \"<UNSET>\">"),
        };
    }
}
