using System.Text;
using System.Text.Json;
using Ariadne.Receivers.Otlp.Json;
using Ariadne.Receivers.Otlp.Protobuf;
using static Ariadne.Receivers.Otlp.Protobuf.OtlpIgnoredSignalFieldNumbers;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// A signal Ariadne accepts over OTLP but does not store (metrics), so SDKs that export every signal to
/// one endpoint get success instead of logging errors. Its items are counted (and the body checked to be
/// well-formed), then dropped.
/// </summary>
public sealed class OtlpIgnoredSignal
{
    public static readonly OtlpIgnoredSignal Metrics = new(
        "metrics",
        "/v1/metrics",
        "opentelemetry.proto.collector.metrics.v1.MetricsService",
        [ExportMetricsServiceRequest_ResourceMetrics, ResourceMetrics_ScopeMetrics, ScopeMetrics_Metrics],
        [("resourceMetrics", "resource_metrics"), ("scopeMetrics", "scope_metrics"), ("metrics", "metrics")]);

    // The path from the request to the counted items: request -> resource level -> scope level -> item.
    private readonly uint[] _protobufTags;
    private readonly (byte[] CamelCase, byte[] SnakeCase)[] _jsonNames;

    private OtlpIgnoredSignal(string name, string httpPath, string grpcService, int[] fieldPath, (string CamelCase, string SnakeCase)[] jsonPath)
    {
        Name = name;
        HttpPath = httpPath;
        GrpcService = grpcService;
        _protobufTags = Array.ConvertAll(fieldPath, field => (uint)field << 3 | WireType.Len);
        _jsonNames = Array.ConvertAll(jsonPath, names => (Encoding.UTF8.GetBytes(names.CamelCase), Encoding.UTF8.GetBytes(names.SnakeCase)));
    }

    /// <summary>The label on ariadne_signals_ignored_total.</summary>
    public string Name { get; }

    public string HttpPath { get; }

    public string GrpcService { get; }

    public override string ToString() => Name;

    /// <summary>Counts the items of a protobuf export request; throws <see cref="OtlpMalformedException"/> if it is not protobuf.</summary>
    public long CountProtobuf(ReadOnlySpan<byte> payload) => CountProtobuf(payload, level: 0);

    /// <summary>Counts the items of an OTLP/JSON export request; throws <see cref="OtlpMalformedException"/> if it is not one.</summary>
    public long CountJson(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                OtlpMalformedException.Throw($"An OTLP/JSON {Name} request must be a JSON object.");
            }

            var count = CountJson(ref reader, level: 0);
            OtlpJsonPrimitives.ExpectEnd(ref reader);
            return count;
        }
        catch (JsonException e)
        {
            throw new OtlpMalformedException($"The body is not valid JSON: {e.Message}", e);
        }
    }

    private long CountProtobuf(ReadOnlySpan<byte> message, int level)
    {
        var reader = new ProtobufReader(message);
        long count = 0;
        while (reader.TryReadTag(out var tag))
        {
            if (tag != _protobufTags[level])
            {
                reader.SkipField(tag);
                continue;
            }

            var inner = reader.ReadLengthDelimited();
            count += level == _protobufTags.Length - 1 ? 1 : CountProtobuf(inner, level + 1);
        }

        return count;
    }

    private long CountJson(ref Utf8JsonReader reader, int level)
    {
        long count = 0;
        while (OtlpJsonPrimitives.NextProperty(ref reader))
        {
            var (camelCase, snakeCase) = _jsonNames[level];
            if (!reader.ValueTextEquals(camelCase) && !reader.ValueTextEquals(snakeCase))
            {
                reader.Skip();
                continue;
            }

            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                OtlpMalformedException.Throw($"{Encoding.UTF8.GetString(camelCase)} must be a JSON array.");
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    OtlpMalformedException.Throw($"The items of {Encoding.UTF8.GetString(camelCase)} must be JSON objects.");
                }

                if (level == _jsonNames.Length - 1)
                {
                    count++;
                    reader.Skip();
                }
                else
                {
                    count += CountJson(ref reader, level + 1);
                }
            }
        }

        return count;
    }
}
