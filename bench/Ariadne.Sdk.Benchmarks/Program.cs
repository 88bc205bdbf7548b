using System.Globalization;
using Ariadne.Sdk.Benchmarks;
using BenchmarkDotNet.Running;

// `overhead [pairs] [least warm-up pairs] [--no-card-latency] [--sink]`: the demo checkout with and without tracing (--sink: exported
// to a discarding OTLP endpoint instead of the Ariadne server); anything else goes to BenchmarkDotNet
// (`--filter '*SpanCreation*'`).
if (args.Length > 0 && args[0] == "overhead")
{
    var numbers = args.Skip(1).Where(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray();
    var pairs = numbers.Length > 0 ? numbers[0] : 400;
    // The least warm-up; it goes on until the JIT has settled (CheckoutOverhead).
    var warmup = numbers.Length > 1 ? numbers[1] : 300;
    return await CheckoutOverhead.RunAsync(pairs, warmup, simulatedCardLatency: !args.Contains("--no-card-latency"), sink: args.Contains("--sink"));
}

BenchmarkSwitcher.FromAssembly(typeof(SpanCreationBenchmarks).Assembly).Run(args);
return 0;
