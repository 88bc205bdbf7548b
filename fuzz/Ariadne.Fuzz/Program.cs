using Ariadne.Fuzzing;
using Ariadne.Model;
using SharpFuzz;

// ARIADNE_FUZZ_TARGET names the decoder (see FuzzTargets.All); libFuzzer owns the command line.
//   seeds <dir>   writes the target's seed corpus into <dir>
//   mutate <executions> <seed> <corpus dir> <findings dir>
//                 the in-process mutation fuzzer for that many executions (MutationRun; scripts/fuzz.sh's default)
//   --afl         runs under afl-fuzz (SharpFuzz's fork server), the input on stdin (scripts/fuzz.sh afl)
//   <file>        decodes the file once (replaying a corpus entry or a crash)
//   <dir>         decodes every file in it once (replaying findings): crashes, hangs and the slowest input's CPU
// Otherwise it runs under libFuzzer: every input is decoded; an exception other than the documented refusal
// escapes the decode and libFuzzer records the input as a crash.
var name = Environment.GetEnvironmentVariable("ARIADNE_FUZZ_TARGET");
if (name is null)
{
    Console.Error.WriteLine($"Set ARIADNE_FUZZ_TARGET to one of: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}.");
    return 2;
}

var target = FuzzTargets.Get(name);
if (args is ["seeds", var directory])
{
    Directory.CreateDirectory(directory);
    var seeds = target.Seeds(TraceId.FromBytes(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray()));
    for (var i = 0; i < seeds.Length; i++)
    {
        File.WriteAllBytes(Path.Combine(directory, $"seed-{i}"), seeds[i]);
    }

    Console.WriteLine($"{seeds.Length} seeds of {name} in {directory}.");
    return 0;
}

if (args is ["mutate", var executions, var mutationSeed, var corpus, var findings])
{
    return Ariadne.Fuzz.MutationRun.Run(target, long.Parse(executions, System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(mutationSeed, System.Globalization.CultureInfo.InvariantCulture), corpus, findings);
}

if (args is [var file] && File.Exists(file))
{
    Console.WriteLine(target.Decode(File.ReadAllBytes(file)) ? $"{file}: decoded" : $"{file}: refused as malformed");
    return 0;
}

if (args is [var findingsDirectory] && Directory.Exists(findingsDirectory))
{
    return Ariadne.Fuzz.MutationRun.Replay(target, findingsDirectory);
}

if (args is ["--afl"])
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target.Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    });
    return 0;
}

Fuzzer.LibFuzzer.Run(input => target.Decode(input));
return 0;
