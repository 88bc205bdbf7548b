using Ariadne.Pipeline;
using static Ariadne.Receivers.Otlp.Protobuf.OtlpLogFieldNumbers;
using static Ariadne.Receivers.Otlp.Protobuf.WireType;

namespace Ariadne.Receivers.Otlp.Protobuf;

/// <summary>
/// Decodes an OTLP ExportLogsServiceRequest (or LogsData: same fields) from protobuf bytes into a
/// <see cref="LogBatch"/>: the records, read into <see cref="OtlpLogRecords"/>; the envelope, reader, interning and
/// limits are the trace decoder's (<see cref="OtlpProtobufCommonDecoder"/>). Records with ids of the wrong length are
/// rejected one by one (OTLP partial success); anything that is not valid protobuf throws
/// <see cref="OtlpMalformedException"/>.
/// </summary>
internal readonly struct OtlpProtobufLogDecoder : IOtlpProtobufItemDecoder<OtlpLogRecords>
{
    public static void Decode(ReadOnlySpan<byte> payload, LogBatch batch) => OtlpProtobufCommonDecoder.Decode<OtlpProtobufLogDecoder, OtlpLogRecords>(payload, new(batch));

    public static void DecodeItem(OtlpProtobufCommonDecoder decoder, ReadOnlySpan<byte> message, OtlpLogRecords records)
    {
        var scratch = decoder.Scratch;
        var record = new OtlpLogRecordFields(scratch);
        var reader = new ProtobufReader(message);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case LogRecord_TimeUnixNano << 3 | Fixed64:
                    record.Time = (long)reader.ReadFixed64();
                    break;
                case LogRecord_ObservedTimeUnixNano << 3 | Fixed64:
                    record.ObservedTime = (long)reader.ReadFixed64();
                    break;
                case LogRecord_SeverityNumber << 3 | Varint:
                    // An enum is an int32 on the wire; unknown numbers are kept, as the generated parsers do.
                    record.SeverityNumber = (int)reader.ReadVarint();
                    break;
                case LogRecord_SeverityText << 3 | Len:
                    record.SeverityText = scratch.GetName(reader.ReadLengthDelimited());
                    break;
                case LogRecord_Body << 3 | Len:
                    // Depth: request 0, ResourceLogs 1, ScopeLogs 2, LogRecord 3, body 4.
                    record.Body = OtlpDecoding.Merge(record.Body, decoder.DecodeAnyValue(reader.ReadLengthDelimited(), depth: 4));
                    break;
                case LogRecord_Attributes << 3 | Len:
                    scratch.KeyValues.Push(decoder.DecodeKeyValue(reader.ReadLengthDelimited(), depth: 4));
                    break;
                case LogRecord_DroppedAttributesCount << 3 | Varint:
                    record.DroppedAttributes = (uint)reader.ReadVarint();
                    break;
                case LogRecord_Flags << 3 | Fixed32:
                    record.Flags = reader.ReadFixed32();
                    break;
                case LogRecord_TraceId << 3 | Len:
                    record.TraceId = reader.ReadLengthDelimited();
                    break;
                case LogRecord_SpanId << 3 | Len:
                    record.SpanId = reader.ReadLengthDelimited();
                    break;
                case LogRecord_EventName << 3 | Len:
                    record.EventName = scratch.GetName(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.SkipField(tag);
                    break;
            }
        }

        records.Add(record);
    }
}
