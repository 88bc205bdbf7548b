using System.Text.Json;
using Ariadne.Model;
using Ariadne.Pipeline;
using static Ariadne.Receivers.Otlp.Json.OtlpJsonPrimitives;

namespace Ariadne.Receivers.Otlp.Json;

/// <summary>
/// Decodes an OTLP/JSON ExportLogsServiceRequest into a <see cref="LogBatch"/>: the records, read into
/// <see cref="OtlpLogRecords"/>; the envelope, rules and common messages are the trace decoder's
/// (<see cref="OtlpJsonCommonDecoder"/>): hex ids, enums by number or name, 64-bit integers as numbers or strings,
/// camelCase or snake_case names, unknown fields ignored, null as unset.
/// </summary>
internal readonly struct OtlpJsonLogDecoder : IOtlpJsonItemDecoder<OtlpLogRecords>
{
    public static OtlpJsonEnvelopeNames Names { get; } = new("logs request", "resourceLogs", "scopeLogs", "logRecords");

    public static void Decode(ReadOnlySpan<byte> json, LogBatch batch) => OtlpJsonCommonDecoder.Decode<OtlpJsonLogDecoder, OtlpLogRecords>(json, new(batch));

    public static void DecodeItem(OtlpJsonCommonDecoder decoder, ref Utf8JsonReader reader, OtlpLogRecords records)
    {
        scoped OtlpLogRecordFields record = new(decoder.Scratch);

        // A byte more than an id: see HexId.
        Span<byte> traceId = stackalloc byte[TraceId.ByteLength + 1];
        Span<byte> spanId = stackalloc byte[SpanId.ByteLength + 1];
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "timeUnixNano"u8, "time_unix_nano"u8))
            {
                record.Time = (long)ReadUInt64(ref reader, "timeUnixNano");
            }
            else if (Is(ref reader, "observedTimeUnixNano"u8, "observed_time_unix_nano"u8))
            {
                record.ObservedTime = (long)ReadUInt64(ref reader, "observedTimeUnixNano");
            }
            else if (Is(ref reader, "severityNumber"u8, "severity_number"u8))
            {
                record.SeverityNumber = (int)ReadEnum(ref reader, "severityNumber", OtlpLogDecoding.SeverityNumberNames);
            }
            else if (Is(ref reader, "severityText"u8, "severity_text"u8))
            {
                record.SeverityText = decoder.ReadName(ref reader, "severityText");
            }
            else if (Is(ref reader, "body"u8))
            {
                if (EnterObject(ref reader, "body"))
                {
                    record.Body = decoder.DecodeAnyValue(ref reader);
                }
            }
            else if (Is(ref reader, "attributes"u8))
            {
                decoder.PushKeyValues(ref reader, "logRecord.attributes");
            }
            else if (Is(ref reader, "droppedAttributesCount"u8, "dropped_attributes_count"u8))
            {
                record.DroppedAttributes = ReadUInt32(ref reader, "droppedAttributesCount");
            }
            else if (Is(ref reader, "flags"u8))
            {
                record.Flags = ReadUInt32(ref reader, "flags");
            }
            else if (Is(ref reader, "traceId"u8, "trace_id"u8))
            {
                record.TraceId = HexId(traceId, ReadHexId(ref reader, traceId));
            }
            else if (Is(ref reader, "spanId"u8, "span_id"u8))
            {
                record.SpanId = HexId(spanId, ReadHexId(ref reader, spanId));
            }
            else if (Is(ref reader, "eventName"u8, "event_name"u8))
            {
                record.EventName = decoder.ReadName(ref reader, "eventName");
            }
            else
            {
                reader.Skip();
            }
        }

        records.Add(record);
    }
}
