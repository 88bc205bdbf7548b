using Ariadne.Benchmarks;
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(OtlpDecodeBenchmarks).Assembly).Run(args);
