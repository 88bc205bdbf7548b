using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp.Protobuf;
using static Ariadne.Receivers.Otlp.Logs.OtlpLogFieldNumbers;
using static Ariadne.Receivers.Otlp.Protobuf.WireType;

namespace Ariadne.Receivers.Otlp.Logs;

/// <summary>
/// Decodes an OTLP ExportLogsServiceRequest (or LogsData: same fields) from protobuf bytes into a
/// <see cref="LogBatch"/>, with the trace decoder's reader, interning and limits (<see cref="OtlpProtobufCommonDecoder"/>).
/// Records with ids of the wrong length are rejected one by one (OTLP partial success); anything that is not valid
/// protobuf throws <see cref="OtlpMalformedException"/>.
/// </summary>
internal sealed class OtlpProtobufLogDecoder(DecoderScratch scratch) : OtlpProtobufCommonDecoder(scratch)
{
    private readonly ScratchStack<KeyValue> _keyValues = scratch.KeyValues;

    public static void Decode(ReadOnlySpan<byte> payload, LogBatch batch)
    {
        var scratch = DecoderScratch.Rent();
        try
        {
            new OtlpProtobufLogDecoder(scratch).DecodeRequest(payload, batch);
        }
        finally
        {
            DecoderScratch.Return(scratch);
        }
    }

    private void DecodeRequest(ReadOnlySpan<byte> payload, LogBatch batch)
    {
        var reader = new ProtobufReader(payload);
        while (reader.TryReadTag(out var tag))
        {
            if (tag == (ExportLogsServiceRequest_ResourceLogs << 3 | Len))
            {
                DecodeResourceLogs(reader.ReadLengthDelimited(), batch);
            }
            else
            {
                reader.SkipField(tag);
            }
        }
    }

    private void DecodeResourceLogs(ReadOnlySpan<byte> message, LogBatch batch)
    {
        var firstRecord = batch.Records.Count;
        KeyValue[] attributes = [];
        uint droppedAttributes = 0;
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case ResourceLogs_Resource << 3 | Len:
                    DecodeResource(reader.ReadLengthDelimited(), ref attributes, ref droppedAttributes);
                    break;
                case ResourceLogs_ScopeLogs << 3 | Len:
                    DecodeScopeLogs(reader.ReadLengthDelimited(), batch);
                    break;
                case ResourceLogs_SchemaUrl << 3 | Len:
                    ValidateUtf8(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        if (batch.Records.Count > firstRecord)
        {
            batch.AssignResource(firstRecord, OtlpDecoding.CreateResource(attributes, droppedAttributes));
        }
    }

    private void DecodeScopeLogs(ReadOnlySpan<byte> message, LogBatch batch)
    {
        var firstRecord = batch.Records.Count;
        var name = string.Empty;
        var version = string.Empty;
        KeyValue[] attributes = [];
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case ScopeLogs_Scope << 3 | Len:
                    DecodeScope(reader.ReadLengthDelimited(), ref name, ref version, ref attributes);
                    break;
                case ScopeLogs_LogRecords << 3 | Len:
                    DecodeLogRecord(reader.ReadLengthDelimited(), batch);
                    break;
                case ScopeLogs_SchemaUrl << 3 | Len:
                    ValidateUtf8(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        if (batch.Records.Count > firstRecord)
        {
            batch.AssignScope(firstRecord, OtlpDecoding.CreateScope(name, version, attributes));
        }
    }

    private void DecodeLogRecord(ReadOnlySpan<byte> message, LogBatch batch)
    {
        ReadOnlySpan<byte> traceId = default;
        ReadOnlySpan<byte> spanId = default;
        long time = 0;
        long observedTime = 0;
        var severityNumber = 0;
        var severityText = string.Empty;
        var eventName = string.Empty;
        AnyValue body = default;
        uint droppedAttributes = 0;
        uint flags = 0;
        var attributeStart = _keyValues.Count;

        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case LogRecord_TimeUnixNano << 3 | Fixed64:
                    time = (long)reader.ReadFixed64();
                    break;
                case LogRecord_ObservedTimeUnixNano << 3 | Fixed64:
                    observedTime = (long)reader.ReadFixed64();
                    break;
                case LogRecord_SeverityNumber << 3 | Varint:
                    // An enum is an int32 on the wire; unknown numbers are kept, as the generated parsers do.
                    severityNumber = (int)reader.ReadVarint();
                    break;
                case LogRecord_SeverityText << 3 | Len:
                    severityText = Scratch.GetName(reader.ReadLengthDelimited());
                    break;
                case LogRecord_Body << 3 | Len:
                    // Depth: request 0, ResourceLogs 1, ScopeLogs 2, LogRecord 3, body 4.
                    body = OtlpDecoding.Merge(body, DecodeAnyValue(reader.ReadLengthDelimited(), depth: 4));
                    break;
                case LogRecord_Attributes << 3 | Len:
                    _keyValues.Push(DecodeKeyValue(reader.ReadLengthDelimited(), depth: 4));
                    break;
                case LogRecord_DroppedAttributesCount << 3 | Varint:
                    droppedAttributes = (uint)reader.ReadVarint();
                    break;
                case LogRecord_Flags << 3 | Fixed32:
                    flags = reader.ReadFixed32();
                    break;
                case LogRecord_TraceId << 3 | Len:
                    traceId = reader.ReadLengthDelimited();
                    break;
                case LogRecord_SpanId << 3 | Len:
                    spanId = reader.ReadLengthDelimited();
                    break;
                case LogRecord_EventName << 3 | Len:
                    eventName = Scratch.GetName(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        var invalidId = OtlpLogDecoding.ValidateIds(traceId.Length, spanId.Length);
        if (invalidId is not null)
        {
            _keyValues.Truncate(attributeStart);
            batch.Reject(invalidId);
            return;
        }

        batch.Records.Add(new LogRecord
        {
            TimeUnixNano = time,
            ObservedTimeUnixNano = observedTime,
            SeverityNumber = severityNumber,
            SeverityText = severityText,
            Body = body,
            Attributes = _keyValues.Pop(attributeStart),
            DroppedAttributesCount = droppedAttributes,
            Flags = flags,
            TraceId = traceId.IsEmpty ? default : TraceId.FromBytes(traceId),
            SpanId = spanId.IsEmpty ? default : SpanId.FromBytes(spanId),
            EventName = eventName,
            Resource = OtlpDecoding.PendingResource,
        });
    }
}
