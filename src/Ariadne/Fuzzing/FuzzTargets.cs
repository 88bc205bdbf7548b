using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Query.Jaeger;
using Ariadne.Receivers;
using Ariadne.Receivers.Jaeger;
using Ariadne.Receivers.Jaeger.Proto;
using Ariadne.Receivers.Jaeger.Thrift;
using Ariadne.Receivers.Otlp;
using Ariadne.Receivers.Otlp.Json;
using Ariadne.Receivers.Otlp.Protobuf;
using Ariadne.Receivers.Zipkin;
using Ariadne.Search;
using Microsoft.AspNetCore.WebUtilities;

namespace Ariadne.Fuzzing;

/// <summary>Decodes one input; false when the decoder refused it as malformed (the receiver's 400 / INVALID_ARGUMENT).</summary>
internal delegate bool FuzzDecode(ReadOnlySpan<byte> input);

/// <summary>A decoder under fuzzing: its name, the valid payloads to start from, and the decode with its documented refusal.</summary>
internal sealed record FuzzTarget(string Name, Func<TraceId, byte[][]> Seeds, FuzzDecode Decode);

/// <summary>
/// Every body decoder a receiver runs, the body and gRPC message readers before them, and the two query parsers (the
/// search language and Jaeger's /api/traces query string), each catching only the exceptions its endpoint maps to
/// 400 / INVALID_ARGUMENT: any other exception escapes, and is a bug (it would be a 500 or UNKNOWN). Used by the decoder
/// fuzz tests (a fixed number of seeded mutations in CI) and by the SharpFuzz harnesses (fuzz/Ariadne.Fuzz). The
/// Jaeger Thrift targets start from real clients' payloads (<see cref="FuzzSeeds.RealClient"/>).
/// </summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("otlp-protobuf-traces", t => [FuzzSeeds.OtlpProtobuf(t), FuzzSeeds.OtlpProtobuf(t, 1, 0), FuzzSeeds.OtlpProtobufDeep(t, 5)],
            input => Otlp(input, static i => OtlpProtobufTraceDecoder.Decode(i, new SpanBatch()))),
        new("otlp-protobuf-logs", t => [FuzzSeeds.OtlpLogsProtobuf(t)],
            input => Otlp(input, static i => OtlpProtobufLogDecoder.Decode(i, new LogBatch()))),
        new("otlp-json-traces", t => [FuzzSeeds.OtlpJson(t), FuzzSeeds.OtlpJsonDeep(t, 5)],
            input => Otlp(input, static i => OtlpJsonTraceDecoder.Decode(i, new SpanBatch()))),
        new("otlp-json-logs", t => [FuzzSeeds.OtlpLogsJson(t)],
            input => Otlp(input, static i => OtlpJsonLogDecoder.Decode(i, new LogBatch()))),
        new("zipkin-json", t => [FuzzSeeds.ZipkinJson(t), FuzzSeeds.ZipkinJsonWide(t, 20)],
            input => Zipkin(input, static i => ZipkinJsonDecoder.Decode(i, new ZipkinSpanMapper(new SpanBatch())))),
        new("zipkin-proto", t => [FuzzSeeds.ZipkinProto(t)],
            input => Zipkin(input, static i => ZipkinProtoDecoder.Decode(i, new ZipkinSpanMapper(new SpanBatch())))),
        new("jaeger-thrift-compact", _ => [FuzzSeeds.RealClient("go-agent-compact.bin")],
            input => JaegerIngest.Decode(input, proto: false, static (p, m) => JaegerThriftDecoder.DecodeAgentMessage(p, compact: true, m)).Batch is not null),
        new("jaeger-thrift-binary", _ => [FuzzSeeds.RealClient("node-agent-binary.bin")],
            input => JaegerIngest.Decode(input, proto: false, static (p, m) => JaegerThriftDecoder.DecodeAgentMessage(p, compact: false, m)).Batch is not null),
        new("jaeger-thrift-http", _ => [FuzzSeeds.RealClient("go-collector-binary.bin")],
            input => JaegerIngest.Decode(input, proto: false, JaegerThriftDecoder.DecodeBatch).Batch is not null),
        new("jaeger-proto", t => [FuzzSeeds.JaegerProto(t), FuzzSeeds.JaegerProto(t, 1)],
            input => JaegerIngest.Decode(input, proto: true, JaegerProtoDecoder.DecodePostSpansRequest).Batch is not null),
        new("grpc-message", t => [GrpcFrame(FuzzSeeds.OtlpProtobuf(t), compressed: false), GrpcFrame(Compress(FuzzSeeds.OtlpProtobuf(t), ContentEncoding.Gzip), compressed: true)],
            input => Body(RequestBody.ReadGrpcMessageAsync(PipeReader.Create(new ReadOnlySequence<byte>(input.ToArray())), ContentEncoding.Gzip, MaxBodyBytes, CancellationToken.None))),
        new("gzip-body", t => [Compress(FuzzSeeds.OtlpProtobuf(t), ContentEncoding.Gzip)], input => HttpBody(input, ContentEncoding.Gzip)),
        new("deflate-body", t => [Compress(FuzzSeeds.OtlpJson(t), ContentEncoding.Deflate)], input => HttpBody(input, ContentEncoding.Deflate)),
        new("search-language", _ => [.. FuzzSeeds.SearchQueries.Select(Encoding.UTF8.GetBytes)], SearchLanguage),
        new("jaeger-query", _ => [.. FuzzSeeds.JaegerQueryStrings.Select(Encoding.UTF8.GetBytes)], JaegerQuery),
    ];

    /// <summary>The body size limit the fuzzed readers apply (Ingest:MaxRequestBytes' default is larger; this keeps a gzip bomb quick).</summary>
    private const long MaxBodyBytes = 4 * 1024 * 1024;

    public static FuzzTarget Get(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"no fuzz target '{name}'; the targets are {string.Join(", ", All.Select(t => t.Name))}.", nameof(name));

    private delegate void SpanAction(ReadOnlySpan<byte> input);

    private static bool Otlp(ReadOnlySpan<byte> input, SpanAction decode)
    {
        try
        {
            decode(input);
            return true;
        }
        catch (OtlpMalformedException)
        {
            return false;
        }
    }

    /// <summary>ZipkinReceiver maps exactly these two to 400.</summary>
    private static bool Zipkin(ReadOnlySpan<byte> input, SpanAction decode)
    {
        try
        {
            decode(input);
            return true;
        }
        catch (Exception e) when (e is JsonException or ZipkinFormatException)
        {
            return false;
        }
    }

    /// <summary>RequestBody.ReadAsync over a body of <paramref name="input"/>, as OTLP/HTTP and Zipkin read it.</summary>
    private static bool HttpBody(ReadOnlySpan<byte> input, ContentEncoding encoding)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(input.ToArray());
        return Body(RequestBody.ReadAsync(context.Request, encoding, MaxBodyBytes, CancellationToken.None));
    }

    /// <summary>The read completes at once (the input is in memory); a body too large or malformed is the receiver's 413 or 400.</summary>
    private static bool Body(ValueTask<RequestBodyResult> read)
    {
        var result = read.AsTask().GetAwaiter().GetResult();
        if (result.Error != RequestBodyError.None)
        {
            return false;
        }

        using (result.Body)
        {
            return true;
        }
    }

    /// <summary>SearchApi and the Search page answer SearchSyntaxException with 400 and its message.</summary>
    private static bool SearchLanguage(ReadOnlySpan<byte> input)
    {
        try
        {
            SearchQuery.Parse(Encoding.UTF8.GetString(input));
            return true;
        }
        catch (SearchSyntaxException)
        {
            return false;
        }
    }

    /// <summary>The query string of Jaeger's /api/traces, parsed as Kestrel parses it; JaegerApi answers a refusal with 400.</summary>
    private static bool JaegerQuery(ReadOnlySpan<byte> input)
    {
        var context = new DefaultHttpContext();
        context.Request.Query = new QueryCollection(QueryHelpers.ParseQuery(Encoding.UTF8.GetString(input)));
        return JaegerApi.TryParseSearch(context.Request, out _, out _);
    }

    private static byte[] GrpcFrame(byte[] message, bool compressed) =>
        [compressed ? (byte)1 : (byte)0, (byte)(message.Length >> 24), (byte)(message.Length >> 16), (byte)(message.Length >> 8), (byte)message.Length, .. message];

    private static byte[] Compress(byte[] data, ContentEncoding encoding)
    {
        using var output = new MemoryStream();
        using (Stream compressor = encoding == ContentEncoding.Gzip ? new GZipStream(output, CompressionLevel.Fastest) : new ZLibStream(output, CompressionLevel.Fastest))
        {
            compressor.Write(data);
        }

        return output.ToArray();
    }
}
