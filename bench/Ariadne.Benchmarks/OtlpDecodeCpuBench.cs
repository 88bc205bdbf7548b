using System.Diagnostics;
using System.Globalization;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp.Protobuf;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace Ariadne.Benchmarks;

/// <summary>
/// The OTLP decoding comparison in CPU time rather than wall time: on a machine shared with other work, wall time
/// counts waiting for a core, and with the server GC it counts a collection once however many GC threads did it.
/// The process's CPU time (all threads) per decoded span is the cost. The two decoders run interleaved, five rounds,
/// so load from elsewhere hits both alike; the median round is reported.
/// Usage: dotnet run -c Release --project bench/Ariadne.Benchmarks -- otlp-decode-cpu [spans per request]
/// </summary>
internal static class OtlpDecodeCpuBench
{
    private const int Rounds = 5;
    private const int SpansPerRound = 2_000_000;

    public static void Run(string[] args)
    {
        var spans = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        var payload = OtlpDecodeBenchmarks.RealisticRequest(spans).ToByteArray();
        var iterations = SpansPerRound / spans;
        Console.WriteLine($"{spans} spans per request, {payload.Length / spans} bytes per span on the wire, {iterations} requests per round");

        // Warm-up: both paths jitted to tier 1 before anything is measured.
        Measure(() => ExportTraceServiceRequest.Parser.ParseFrom(payload), iterations / 4, spans);
        Measure(() => OtlpProtobufTraceDecoder.Decode(payload, new SpanBatch()), iterations / 4, spans);

        var generated = new List<double>();
        var ours = new List<double>();
        for (var round = 1; round <= Rounds; round++)
        {
            generated.Add(Measure(() => ExportTraceServiceRequest.Parser.ParseFrom(payload), iterations, spans));
            ours.Add(Measure(() => OtlpProtobufTraceDecoder.Decode(payload, new SpanBatch()), iterations, spans));
            Console.WriteLine($"round {round}: generated parser {generated[^1]:F0} ns/span, Ariadne decoder {ours[^1]:F0} ns/span, ratio {generated[^1] / ours[^1]:F2}");
        }

        generated.Sort();
        ours.Sort();
        var ratios = generated.Zip(ours, (g, a) => g / a).Order().ToList();
        Console.WriteLine($"median: generated parser {generated[Rounds / 2]:F0} ns/span, Ariadne decoder {ours[Rounds / 2]:F0} ns/span (CPU), ratio {ratios[Rounds / 2]:F2}");
    }

    private static double Measure(Action decode, int iterations, int spans)
    {
        var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        for (var i = 0; i < iterations; i++)
        {
            decode();
        }

        process.Refresh();
        return (process.TotalProcessorTime - before).TotalNanoseconds / iterations / spans;
    }
}
