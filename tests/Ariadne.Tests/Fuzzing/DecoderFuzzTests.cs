using Ariadne.Fuzzing;
using Ariadne.Model;

namespace Ariadne.Tests.Fuzzing;

/// <summary>
/// A deterministic mutation fuzzer over every body decoder, sized for CI (a few seconds each): seeded mutations of
/// valid payloads, and the hostile shapes, must decode or be refused as malformed (400 / INVALID_ARGUMENT); any other
/// exception would reach the client as a 500 or UNKNOWN. A failure names the seed and iteration that reproduce it.
/// The long runs are the SharpFuzz harnesses (fuzz/Ariadne.Fuzz) and `ariadne fuzz` against a running server.
/// </summary>
public sealed class DecoderFuzzTests
{
    private const int Iterations = 4_000;

    private static readonly TraceId s_trace = TraceId.FromBytes(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray());

    public static TheoryData<string> Targets => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Seeds_decode_cleanly(string name)
    {
        var target = FuzzTargets.Get(name);
        foreach (var seed in target.Seeds(s_trace))
        {
            Assert.True(target.Decode(seed), $"a {name} seed was refused as malformed; the seed itself is wrong.");
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Mutated_payloads_decode_or_are_refused_as_malformed_and_nothing_else(string name)
    {
        var target = FuzzTargets.Get(name);
        var seeds = target.Seeds(s_trace);
        var seed = 13 + FuzzTargets.All.ToList().IndexOf(target);
        var mutator = new Mutator(seed);
        var failures = new List<string>();
        var refused = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var input = mutator.Mutate(seeds[i % seeds.Length]);
            try
            {
                refused += target.Decode(input) ? 0 : 1;
            }
            catch (Exception e)
            {
                failures.Add($"seed {seed} iteration {i} ({mutator.Last}): {e.GetType().Name}: {e.Message} input {Convert.ToBase64String(input)}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {Iterations} inputs failed otherwise than as malformed; the first three:{Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(3))}");
        // Most mutations must be caught: a decoder that accepted everything would be checking nothing.
        Assert.InRange(refused, Iterations / 10, Iterations);
    }

    /// <summary>Inputs kept under Fixtures/&lt;target&gt;/: every crash a fuzzer ever found, replayed for good.</summary>
    public static TheoryData<string, string> KeptInputs
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var directory in Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "Fuzzing", "Fixtures")))
            {
                foreach (var file in Directory.GetFiles(directory))
                {
                    data.Add(Path.GetFileName(directory), Path.GetFileName(file));
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(KeptInputs))]
    public void Kept_crashes_decode_or_are_refused_as_malformed(string name, string file)
    {
        var input = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fuzzing", "Fixtures", name, file));

        FuzzTargets.Get(name).Decode(input);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(101)]
    [InlineData(5_000)]
    public void Deeply_nested_values_decode_or_are_refused_as_malformed(int depth)
    {
        FuzzTargets.Get("otlp-protobuf-traces").Decode(FuzzSeeds.OtlpProtobufDeep(s_trace, depth));
        FuzzTargets.Get("otlp-json-traces").Decode(FuzzSeeds.OtlpJsonDeep(s_trace, depth));
        Assert.False(FuzzTargets.Get("zipkin-json").Decode(FuzzSeeds.ZipkinJsonDeep(depth)));
    }

    [Fact]
    public void A_span_with_100k_attributes_decodes_in_each_format()
    {
        Assert.True(FuzzTargets.Get("otlp-protobuf-traces").Decode(FuzzSeeds.OtlpProtobufWide(s_trace, 100_000)));
        Assert.True(FuzzTargets.Get("otlp-json-traces").Decode(FuzzSeeds.OtlpJsonWide(s_trace, 100_000)));
        Assert.True(FuzzTargets.Get("zipkin-json").Decode(FuzzSeeds.ZipkinJsonWide(s_trace, 100_000)));
    }
}
