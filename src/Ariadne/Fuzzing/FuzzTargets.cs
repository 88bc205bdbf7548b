using System.Text.Json;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp;
using Ariadne.Receivers.Otlp.Json;
using Ariadne.Receivers.Otlp.Protobuf;
using Ariadne.Receivers.Zipkin;

namespace Ariadne.Fuzzing;

/// <summary>Decodes one input; false when the decoder refused it as malformed (the receiver's 400 / INVALID_ARGUMENT).</summary>
internal delegate bool FuzzDecode(ReadOnlySpan<byte> input);

/// <summary>A decoder under fuzzing: its name, the valid payloads to start from, and the decode with its documented refusal.</summary>
internal sealed record FuzzTarget(string Name, Func<TraceId, byte[][]> Seeds, FuzzDecode Decode);

/// <summary>
/// Every body decoder a receiver runs, each catching only the exceptions its receiver maps to 400 /
/// INVALID_ARGUMENT: any other exception escapes, and is a bug (it would be a 500 or UNKNOWN). Used by the decoder
/// fuzz tests (a fixed number of seeded mutations in CI) and by the SharpFuzz harnesses (fuzz/Ariadne.Fuzz).
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
    ];

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
}
