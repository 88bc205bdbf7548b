namespace Ariadne.Tests.Demo;

/// <summary>
/// Tests that judge the whole demo by the clock: its real latencies against the demo's alert thresholds, and how long
/// `ariadne demo` takes to stop. xunit runs this collection alone, after the parallel ones, so that a two-core machine
/// busy with the rest of the suite does not push the shop's normal p50 over a threshold that only a fault should
/// cross, nor a clean stop past its deadline. It also keeps them apart from the
/// SDK's process-wide state, as <see cref="Instrumentation.SdkCollection"/> does for the others.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QuietCollection
{
    public const string Name = "Demo recordings, run alone";
}
