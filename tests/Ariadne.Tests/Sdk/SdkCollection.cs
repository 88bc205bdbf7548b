namespace Ariadne.Tests.Sdk;

/// <summary>
/// The SDK's propagator and business-context policy are process-wide (as OpenTelemetry's are), so the tests that
/// install them run one at a time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SdkCollection
{
    public const string Name = "Ariadne.Sdk process-wide state";
}
