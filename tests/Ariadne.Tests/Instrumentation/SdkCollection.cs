using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Instrumentation;

/// <summary>
/// The SDK's propagator and business-context policy are process-wide (as OpenTelemetry's are), so the tests that
/// install them run one at a time. They share one private RabbitMQ broker, which takes ~10 s to start.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SdkCollection : ICollectionFixture<RabbitMqServerFixture>
{
    public const string Name = "Ariadne.Instrumentation process-wide state";
}
