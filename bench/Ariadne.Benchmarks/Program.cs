using Ariadne.Benchmarks;
using BenchmarkDotNet.Running;

// Benches of docs/PERFORMANCE.md. Without a subcommand: the storage bench (StorageBench), e.g.
//   dotnet run -c Release --project bench/Ariadne.Benchmarks -- 2000000 DIR
//   dotnet run -c Release --project bench/Ariadne.Benchmarks -- 2000000 --engine clickhouse --url http://127.0.0.1:8123
switch (args.FirstOrDefault())
{
    case "block-write":
        ProbeBlockWrite.Run(args[1..]);
        break;
    case "trace-by-id":
        ProbeTraceById.Run(args[1..]);
        break;
    case "otlp-decode-cpu":
        OtlpDecodeCpuBench.Run(args[1..]);
        break;
    case "block-cut":
        BenchmarkSwitcher.FromAssembly(typeof(BlockCutBenchmarks).Assembly).Run(["--filter", "*BlockCutBenchmarks*", .. args[1..]]);
        break;
    case "otlp-decode":
        BenchmarkSwitcher.FromAssembly(typeof(OtlpDecodeBenchmarks).Assembly).Run(args[1..]);
        break;
    case "dependencies":
        await DependenciesBench.RunAsync(args[1..]);
        break;
    case "ingest-path":
        await IngestPathBench.RunAsync(args[1..]);
        break;
    case "tail-sampling":
        await TailSamplingBench.RunAsync(args[1..]);
        break;
    default:
        await StorageBench.RunAsync(args);
        break;
}
