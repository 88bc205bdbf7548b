namespace Ariadne.Model;

/// <summary>
/// A span or a log record. OTLP sends both grouped by resource and instrumentation scope, and the items of a group
/// share one <see cref="Model.Resource"/> and one <see cref="InstrumentationScope"/> instance.
/// </summary>
public interface ITelemetryItem
{
    Resource Resource { get; set; }

    InstrumentationScope Scope { get; set; }
}
