namespace Ariadne.Tests.Demo;

/// <summary>
/// Tests that record the demo shop's real latencies and judge them against the demo's alert thresholds. xunit runs
/// this collection alone, after the parallel ones, so that a two-core machine busy with the rest of the suite does not
/// push the shop's normal p50 over a threshold that only a fault should cross. It also keeps them apart from the
/// SDK's process-wide state, as <see cref="Instrumentation.SdkCollection"/> does for the others.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QuietCollection
{
    public const string Name = "Demo recordings, run alone";
}
