using System.Globalization;
using Ariadne.Sdk.Benchmarks;
using BenchmarkDotNet.Running;

// `overhead [pairs] [warmup]`: the demo checkout with and without tracing; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "overhead")
{
    var pairs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 400;
    var warmup = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 50;
    return await CheckoutOverhead.RunAsync(pairs, warmup);
}

BenchmarkSwitcher.FromAssembly(typeof(SpanCreationBenchmarks).Assembly).Run(args);
return 0;
