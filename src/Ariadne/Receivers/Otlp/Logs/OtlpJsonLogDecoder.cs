using System.Text.Json;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp.Json;

namespace Ariadne.Receivers.Otlp.Logs;

/// <summary>
/// Decodes an OTLP/JSON ExportLogsServiceRequest into a <see cref="LogBatch"/> with the rules and common messages of
/// <see cref="OtlpJsonCommonDecoder"/> (the trace decoder's): hex ids, enums by number or name, 64-bit integers as
/// numbers or strings, camelCase or snake_case names, unknown fields ignored, null as unset.
/// </summary>
internal sealed class OtlpJsonLogDecoder(DecoderScratch scratch) : OtlpJsonCommonDecoder(scratch)
{
    private readonly ScratchStack<KeyValue> _keyValues = scratch.KeyValues;

    public static void Decode(ReadOnlySpan<byte> json, LogBatch batch)
    {
        var scratch = DecoderScratch.Rent();
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxJsonDepth });
            new OtlpJsonLogDecoder(scratch).DecodeRequest(ref reader, batch);
        }
        catch (JsonException e)
        {
            throw new OtlpMalformedException($"The body is not valid JSON: {e.Message}", e);
        }
        finally
        {
            DecoderScratch.Return(scratch);
        }
    }

    private void DecodeRequest(ref Utf8JsonReader reader, LogBatch batch)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            OtlpMalformedException.Throw("An OTLP/JSON logs request must be a JSON object such as {\"resourceLogs\":[...]}.");
        }

        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "resourceLogs"u8, "resource_logs"u8))
            {
                if (EnterArray(ref reader, "resourceLogs"))
                {
                    while (NextItem(ref reader))
                    {
                        DecodeResourceLogs(ref reader, batch);
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        ExpectEnd(ref reader);
    }

    private void DecodeResourceLogs(ref Utf8JsonReader reader, LogBatch batch)
    {
        ExpectObject(ref reader, "resourceLogs[]");
        var firstRecord = batch.Records.Count;
        KeyValue[] attributes = [];
        uint droppedAttributes = 0;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "resource"u8))
            {
                if (EnterObject(ref reader, "resource"))
                {
                    DecodeResource(ref reader, ref attributes, ref droppedAttributes);
                }
            }
            else if (Is(ref reader, "scopeLogs"u8, "scope_logs"u8))
            {
                if (EnterArray(ref reader, "scopeLogs"))
                {
                    while (NextItem(ref reader))
                    {
                        DecodeScopeLogs(ref reader, batch);
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        if (batch.Records.Count > firstRecord)
        {
            batch.AssignResource(firstRecord, OtlpDecoding.CreateResource(attributes, droppedAttributes));
        }
    }

    private void DecodeScopeLogs(ref Utf8JsonReader reader, LogBatch batch)
    {
        ExpectObject(ref reader, "scopeLogs[]");
        var firstRecord = batch.Records.Count;
        var name = string.Empty;
        var version = string.Empty;
        KeyValue[] attributes = [];
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "scope"u8))
            {
                if (EnterObject(ref reader, "scope"))
                {
                    DecodeScope(ref reader, ref name, ref version, ref attributes);
                }
            }
            else if (Is(ref reader, "logRecords"u8, "log_records"u8))
            {
                if (EnterArray(ref reader, "logRecords"))
                {
                    while (NextItem(ref reader))
                    {
                        DecodeLogRecord(ref reader, batch);
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        if (batch.Records.Count > firstRecord)
        {
            batch.AssignScope(firstRecord, OtlpDecoding.CreateScope(name, version, attributes));
        }
    }

    private void DecodeLogRecord(ref Utf8JsonReader reader, LogBatch batch)
    {
        ExpectObject(ref reader, "logRecords[]");
        Span<byte> traceId = stackalloc byte[TraceId.ByteLength];
        Span<byte> spanId = stackalloc byte[SpanId.ByteLength];
        var traceIdLength = 0;
        var spanIdLength = 0;
        long time = 0;
        long observedTime = 0;
        var severityNumber = 0;
        var severityText = string.Empty;
        var eventName = string.Empty;
        AnyValue body = default;
        uint droppedAttributes = 0;
        uint flags = 0;
        var attributeStart = _keyValues.Count;

        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "timeUnixNano"u8, "time_unix_nano"u8))
            {
                time = (long)ReadUInt64(ref reader, "timeUnixNano");
            }
            else if (Is(ref reader, "observedTimeUnixNano"u8, "observed_time_unix_nano"u8))
            {
                observedTime = (long)ReadUInt64(ref reader, "observedTimeUnixNano");
            }
            else if (Is(ref reader, "severityNumber"u8, "severity_number"u8))
            {
                severityNumber = (int)ReadEnum(ref reader, "severityNumber", OtlpLogDecoding.SeverityNumberNames);
            }
            else if (Is(ref reader, "severityText"u8, "severity_text"u8))
            {
                severityText = ReadName(ref reader, "severityText");
            }
            else if (Is(ref reader, "body"u8))
            {
                if (EnterObject(ref reader, "body"))
                {
                    body = DecodeAnyValue(ref reader);
                }
            }
            else if (Is(ref reader, "attributes"u8))
            {
                PushKeyValues(ref reader, "logRecord.attributes");
            }
            else if (Is(ref reader, "droppedAttributesCount"u8, "dropped_attributes_count"u8))
            {
                droppedAttributes = ReadUInt32(ref reader, "droppedAttributesCount");
            }
            else if (Is(ref reader, "flags"u8))
            {
                flags = ReadUInt32(ref reader, "flags");
            }
            else if (Is(ref reader, "traceId"u8, "trace_id"u8))
            {
                traceIdLength = ReadHexId(ref reader, traceId);
            }
            else if (Is(ref reader, "spanId"u8, "span_id"u8))
            {
                spanIdLength = ReadHexId(ref reader, spanId);
            }
            else if (Is(ref reader, "eventName"u8, "event_name"u8))
            {
                eventName = ReadName(ref reader, "eventName");
            }
            else
            {
                reader.Skip();
            }
        }

        var invalidId = OtlpLogDecoding.ValidateIds(traceIdLength, spanIdLength);
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
            TraceId = traceIdLength == 0 ? default : TraceId.FromBytes(traceId),
            SpanId = spanIdLength == 0 ? default : SpanId.FromBytes(spanId),
            EventName = eventName,
            Resource = OtlpDecoding.PendingResource,
        });
    }
}
