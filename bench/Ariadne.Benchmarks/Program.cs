using Ariadne.Benchmarks;
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(TailSamplingIngestBenchmarks).Assembly).Run(args);
