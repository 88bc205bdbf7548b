using System.Text;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp;
using Ariadne.Receivers.Otlp.Json;
using Ariadne.Receivers.Otlp.Protobuf;
using Ariadne.Tests.Receivers.Otlp;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using PCommon = OpenTelemetry.Proto.Common.V1;
using PLogs = OpenTelemetry.Proto.Logs.V1;
using PResource = OpenTelemetry.Proto.Resource.V1;

namespace Ariadne.Tests.Logs;

/// <summary>The OTLP logs decoders against the Grpc.Tools-generated parser, and on bad input.</summary>
public sealed class OtlpLogDecoderTests
{
    [Property(Arbitrary = [typeof(LogArbitraries)], MaxTest = 300)]
    public void Decodes_random_logs_requests_exactly_as_the_generated_parser_reads_them(ExportLogsServiceRequest request) =>
        AssertDecodesLikeGeneratedParser(request.ToByteArray());

    [Property(Arbitrary = [typeof(LogArbitraries)], MaxTest = 200)]
    public void Skips_unknown_fields_in_logs_requests(ExportLogsServiceRequest request, int seed) =>
        AssertDecodesLikeGeneratedParser(UnknownFieldInjector.InjectIntoLogs(request.ToByteArray(), new Random(seed)));

    [Property(Arbitrary = [typeof(LogArbitraries)], MaxTest = 300)]
    public void Refuses_truncated_logs_requests_exactly_when_the_generated_parser_does(ExportLogsServiceRequest request, int seed)
    {
        var bytes = request.ToByteArray();
        if (bytes.Length == 0)
        {
            return;
        }

        bytes = bytes[..new Random(seed).Next(bytes.Length)];
        bool generatedAccepts;
        try
        {
            ExportLogsServiceRequest.Parser.ParseFrom(bytes);
            generatedAccepts = true;
        }
        catch (InvalidProtocolBufferException)
        {
            generatedAccepts = false;
        }

        if (generatedAccepts)
        {
            AssertDecodesLikeGeneratedParser(bytes);
        }
        else
        {
            Assert.Throws<OtlpMalformedException>(() => OtlpProtobufLogDecoder.Decode(bytes, new LogBatch()));
        }
    }

    [Fact]
    public void Json_logs_request_decodes_every_field_in_camel_and_snake_case()
    {
        const string json = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"orders"}}]},
              "scopeLogs":[{"scope":{"name":"Orders.Api","version":"2.0"},
                "logRecords":[
                  {"timeUnixNano":"1700000000000000001","observedTimeUnixNano":1700000000000000002,"severityNumber":17,
                   "severityText":"Error","body":{"kvlistValue":{"values":[{"key":"order","value":{"intValue":"42"}}]}},
                   "attributes":[{"key":"exception.type","value":{"stringValue":"Timeout"}}],"droppedAttributesCount":1,
                   "flags":1,"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","eventName":"order.failed"},
                  {"time_unix_nano":"5","severity_number":"SEVERITY_NUMBER_WARN2","body":{"stringValue":"slow"},
                   "trace_id":"5B8EFFF798038103D269B633813FC60C","span_id":null,"event_name":"x"}
                ]}]}]}
            """;
        var batch = new LogBatch();
        OtlpJsonLogDecoder.Decode(Encoding.UTF8.GetBytes(json), batch);

        Assert.Equal(2, batch.Records.Count);
        var first = batch.Records[0];
        Assert.Equal(1700000000000000001, first.TimeUnixNano);
        Assert.Equal(1700000000000000002, first.ObservedTimeUnixNano);
        Assert.Equal(17, first.SeverityNumber);
        Assert.Equal("Error", first.SeverityText);
        Assert.Equal(AnyValueType.KeyValueList, first.Body.Type);
        Assert.Equal(42, Assert.Single(first.Body.AsKeyValueList).Value.AsInt);
        Assert.Equal("Timeout", Assert.Single(first.Attributes).Value.AsString);
        Assert.Equal(1u, first.DroppedAttributesCount);
        Assert.Equal(1u, first.Flags);
        Assert.Equal("5b8efff798038103d269b633813fc60c", first.TraceId.ToHex());
        Assert.Equal("eee19b7ec3c1b174", first.SpanId.ToHex());
        Assert.Equal("order.failed", first.EventName);
        Assert.Equal("orders", first.ServiceName);
        Assert.Equal("Orders.Api", first.Scope.Name);
        var second = batch.Records[1];
        Assert.Equal(14, second.SeverityNumber);
        Assert.Equal("WARN2", Severity.Text(second));
        Assert.Equal(first.TraceId, second.TraceId);
        Assert.True(second.SpanId.IsEmpty);
        Assert.Same(first.Resource, second.Resource);
    }

    [Theory]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"abc"}]}]}]}""", 1)]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"00"}]}]}]}""", 1)]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"no trace"}}]}]}]}""", 0)]
    public void Json_records_with_ids_of_the_wrong_length_are_rejected_one_by_one(string json, int rejected)
    {
        var batch = new LogBatch();
        OtlpJsonLogDecoder.Decode(Encoding.UTF8.GetBytes(json), batch);
        Assert.Equal(rejected, batch.RejectedRecords);
        Assert.Equal(1 - rejected, batch.Records.Count);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("""{"resourceLogs":{}}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":{}}]}]}]}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"soon"}]}]}]}""")]
    [InlineData("""{"resourceLogs":[]} trailing""")]
    [InlineData("""{"resourceLogs":[""")]
    public void Malformed_json_logs_requests_throw_the_malformed_exception(string json) =>
        Assert.Throws<OtlpMalformedException>(() => OtlpJsonLogDecoder.Decode(Encoding.UTF8.GetBytes(json), new LogBatch()));

    private static void AssertDecodesLikeGeneratedParser(byte[] bytes)
    {
        var (expected, rejected) = Map(ExportLogsServiceRequest.Parser.ParseFrom(bytes));
        var batch = new LogBatch();
        OtlpProtobufLogDecoder.Decode(bytes, batch);
        Assert.Equal(rejected, batch.RejectedRecords);
        Assert.Equal(expected.Count, batch.Records.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, a, where) = (expected[i], batch.Records[i], $"record {i}");
            Assert.True(e.TimeUnixNano == a.TimeUnixNano, $"{where} time");
            Assert.True(e.ObservedTimeUnixNano == a.ObservedTimeUnixNano, $"{where} observed time");
            Assert.True(e.SeverityNumber == a.SeverityNumber, $"{where} severity number {e.SeverityNumber} != {a.SeverityNumber}");
            Assert.True(e.SeverityText == a.SeverityText, $"{where} severity text");
            ModelAssert.Attributes([new KeyValue("body", e.Body)], [new KeyValue("body", a.Body)], $"{where} body");
            ModelAssert.Attributes(e.Attributes, a.Attributes, $"{where} attributes");
            Assert.True(e.DroppedAttributesCount == a.DroppedAttributesCount, $"{where} dropped attributes");
            Assert.True(e.Flags == a.Flags, $"{where} flags");
            Assert.True(e.TraceId == a.TraceId, $"{where} trace id");
            Assert.True(e.SpanId == a.SpanId, $"{where} span id");
            Assert.True(e.EventName == a.EventName, $"{where} event name");
            Assert.True(e.ServiceName == a.ServiceName, $"{where} service name");
            ModelAssert.Attributes(e.Resource.Attributes, a.Resource.Attributes, $"{where} resource attributes");
            Assert.True(e.Resource.DroppedAttributesCount == a.Resource.DroppedAttributesCount, $"{where} resource dropped attributes");
            Assert.True(e.Scope.Name == a.Scope.Name && e.Scope.Version == a.Scope.Version, $"{where} scope");
            ModelAssert.Attributes(e.Scope.Attributes, a.Scope.Attributes, $"{where} scope attributes");
        }
    }

    /// <summary>What the generated parser read, mapped onto the model by the OTLP rules (independently of the decoder).</summary>
    private static (List<LogRecord> Records, int Rejected) Map(ExportLogsServiceRequest request)
    {
        var records = new List<LogRecord>();
        var rejected = 0;
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var attributes = resourceLogs.Resource?.Attributes.Select(GeneratedParserView.Map).ToArray() ?? [];
            var named = attributes.FirstOrDefault(a => a.Key == "service.name" && a.Value.Type == AnyValueType.String);
            var resource = new Resource
            {
                ServiceName = named.Key is null ? Resource.UnknownService : named.Value.AsString,
                Attributes = attributes,
                DroppedAttributesCount = resourceLogs.Resource?.DroppedAttributesCount ?? 0,
            };
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                var scope = scopeLogs.Scope is { } s && (s.Name.Length > 0 || s.Version.Length > 0 || s.Attributes.Count > 0)
                    ? new InstrumentationScope { Name = s.Name, Version = s.Version, Attributes = s.Attributes.Select(GeneratedParserView.Map).ToArray() }
                    : InstrumentationScope.Empty;
                foreach (var record in scopeLogs.LogRecords)
                {
                    if (record.TraceId.Length is not (0 or 16) || record.SpanId.Length is not (0 or 8))
                    {
                        rejected++;
                        continue;
                    }

                    records.Add(new LogRecord
                    {
                        TimeUnixNano = (long)record.TimeUnixNano,
                        ObservedTimeUnixNano = (long)record.ObservedTimeUnixNano,
                        SeverityNumber = (int)record.SeverityNumber,
                        SeverityText = record.SeverityText,
                        Body = record.Body is null ? default : GeneratedParserView.Map(record.Body),
                        Attributes = record.Attributes.Select(GeneratedParserView.Map).ToArray(),
                        DroppedAttributesCount = record.DroppedAttributesCount,
                        Flags = record.Flags,
                        TraceId = record.TraceId.Length == 0 ? default : TraceId.FromBytes(record.TraceId.Span),
                        SpanId = record.SpanId.Length == 0 ? default : SpanId.FromBytes(record.SpanId.Span),
                        EventName = record.EventName,
                        Resource = resource,
                        Scope = scope,
                    });
                }
            }
        }

        return (records, rejected);
    }
}

public static class LogArbitraries
{
    private static readonly Gen<ByteString> s_traceId = Gen.Frequency(
        (1, Gen.Constant(ByteString.Empty)),
        (6, Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 16).Select(ByteString.CopyFrom)),
        (1, OtlpGenerators.Bytes.Select(ByteString.CopyFrom)));

    private static readonly Gen<ByteString> s_spanId = Gen.Frequency(
        (2, Gen.Constant(ByteString.Empty)),
        (6, Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 8).Select(ByteString.CopyFrom)),
        (1, OtlpGenerators.Bytes.Select(ByteString.CopyFrom)));

    private static readonly Gen<PLogs.LogRecord> s_record =
        from time in OtlpGenerators.UInt64
        from observed in OtlpGenerators.UInt64
        from severity in Gen.Frequency((8, Gen.Choose(0, 24)), (1, Gen.Choose(-3, 40)))
        from text in OtlpGenerators.Text
        from hasBody in Gen.Elements(true, true, false)
        from body in OtlpGenerators.AnyValue(2)
        from attributes in OtlpGenerators.ListOf(OtlpGenerators.KeyValue(2), 4)
        from dropped in OtlpGenerators.UInt32
        from flags in OtlpGenerators.UInt32
        from traceId in s_traceId
        from spanId in s_spanId
        from eventName in OtlpGenerators.Text
        select BuildRecord(time, observed, severity, text, hasBody ? body : null, attributes, dropped, flags, traceId, spanId, eventName);

    private static readonly Gen<PLogs.ScopeLogs> s_scopeLogs =
        from hasScope in Gen.Elements(true, false)
        from name in OtlpGenerators.Text
        from version in OtlpGenerators.Text
        from attributes in OtlpGenerators.ListOf(OtlpGenerators.KeyValue(1), 2)
        from records in OtlpGenerators.ListOf(s_record, 4)
        from schemaUrl in OtlpGenerators.Text
        select BuildScopeLogs(hasScope, name, version, attributes, records, schemaUrl);

    private static readonly Gen<PLogs.ResourceLogs> s_resourceLogs =
        from hasResource in Gen.Elements(true, true, false)
        from attributes in OtlpGenerators.ListOf(OtlpGenerators.KeyValue(2), 4)
        from serviceName in Gen.Elements(null, "checkout", "日本", "")
        from dropped in OtlpGenerators.UInt32
        from scopes in OtlpGenerators.ListOf(s_scopeLogs, 3)
        select BuildResourceLogs(hasResource, attributes, serviceName, dropped, scopes);

    public static Arbitrary<ExportLogsServiceRequest> Request() =>
        Arb.From(OtlpGenerators.ListOf(s_resourceLogs, 3).Select(items =>
        {
            var request = new ExportLogsServiceRequest();
            request.ResourceLogs.AddRange(items);
            return request;
        }));

    private static PLogs.LogRecord BuildRecord(
        ulong time, ulong observed, int severity, string text, PCommon.AnyValue? body, PCommon.KeyValue[] attributes, uint dropped, uint flags,
        ByteString traceId, ByteString spanId, string eventName)
    {
        var record = new PLogs.LogRecord
        {
            TimeUnixNano = time,
            ObservedTimeUnixNano = observed,
            SeverityNumber = (PLogs.SeverityNumber)severity,
            SeverityText = text,
            Body = body,
            DroppedAttributesCount = dropped,
            Flags = flags,
            TraceId = traceId,
            SpanId = spanId,
            EventName = eventName,
        };
        record.Attributes.AddRange(attributes);
        return record;
    }

    private static PLogs.ScopeLogs BuildScopeLogs(bool hasScope, string name, string version, PCommon.KeyValue[] attributes, PLogs.LogRecord[] records, string schemaUrl)
    {
        var scopeLogs = new PLogs.ScopeLogs { SchemaUrl = schemaUrl };
        if (hasScope)
        {
            scopeLogs.Scope = new PCommon.InstrumentationScope { Name = name, Version = version };
            scopeLogs.Scope.Attributes.AddRange(attributes);
        }

        scopeLogs.LogRecords.AddRange(records);
        return scopeLogs;
    }

    private static PLogs.ResourceLogs BuildResourceLogs(bool hasResource, PCommon.KeyValue[] attributes, string? serviceName, uint dropped, PLogs.ScopeLogs[] scopes)
    {
        var resourceLogs = new PLogs.ResourceLogs();
        if (hasResource)
        {
            var resource = new PResource.Resource { DroppedAttributesCount = dropped };
            resource.Attributes.AddRange(attributes);
            if (serviceName is not null)
            {
                resource.Attributes.Add(new PCommon.KeyValue { Key = "service.name", Value = new PCommon.AnyValue { StringValue = serviceName } });
            }

            resourceLogs.Resource = resource;
        }

        resourceLogs.ScopeLogs.AddRange(scopes);
        return resourceLogs;
    }
}
