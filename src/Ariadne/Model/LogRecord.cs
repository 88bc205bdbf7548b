namespace Ariadne.Model;

/// <summary>
/// An OTLP log record (logs/v1 LogRecord) as Ariadne keeps it. Resource and scope are shared by the records of one
/// OTLP ResourceLogs / ScopeLogs, as for spans. Ariadne keeps the records that carry a trace id, to show them in the
/// trace view; <see cref="SpanId"/> is empty for a record logged outside any span of the trace.
/// </summary>
public sealed class LogRecord : ITelemetryItem
{
    /// <summary>When the event happened; 0 when the source did not say (then <see cref="ObservedTimeUnixNano"/> is the time).</summary>
    public long TimeUnixNano { get; set; }

    /// <summary>When the SDK or collector saw the record.</summary>
    public long ObservedTimeUnixNano { get; set; }

    /// <summary>OTLP SeverityNumber: 0 unspecified, 1–4 trace, 5–8 debug, 9–12 info, 13–16 warn, 17–20 error, 21–24 fatal.</summary>
    public int SeverityNumber { get; set; }

    public string SeverityText { get; set; } = string.Empty;

    public AnyValue Body { get; set; }

    public KeyValue[] Attributes { get; set; } = [];

    public uint DroppedAttributesCount { get; set; }

    /// <summary>W3C trace flags in the low byte.</summary>
    public uint Flags { get; set; }

    public TraceId TraceId { get; set; }

    public SpanId SpanId { get; set; }

    public string EventName { get; set; } = string.Empty;

    public Resource Resource { get; set; } = null!;

    public InstrumentationScope Scope { get; set; } = InstrumentationScope.Empty;

    public string ServiceName => Resource.ServiceName;

    /// <summary>The time to show and order by: the event time, or the observed time when the source gave none.</summary>
    public long EffectiveTimeUnixNano => TimeUnixNano != 0 ? TimeUnixNano : ObservedTimeUnixNano;
}

/// <summary>The six ranges of OTLP's SeverityNumber, for display and filtering.</summary>
public enum SeverityLevel : byte
{
    Unspecified,
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

public static class Severity
{
    public static SeverityLevel LevelOf(int severityNumber) => severityNumber switch
    {
        >= 1 and <= 4 => SeverityLevel.Trace,
        >= 5 and <= 8 => SeverityLevel.Debug,
        >= 9 and <= 12 => SeverityLevel.Info,
        >= 13 and <= 16 => SeverityLevel.Warn,
        >= 17 and <= 20 => SeverityLevel.Error,
        >= 21 and <= 24 => SeverityLevel.Fatal,
        _ => SeverityLevel.Unspecified,
    };

    /// <summary>The record's own severity text, else the name of its level ("INFO", "ERROR2"…), as OTLP spells them.</summary>
    public static string Text(LogRecord record)
    {
        if (record.SeverityText.Length > 0)
        {
            return record.SeverityText;
        }

        var level = LevelOf(record.SeverityNumber);
        if (level == SeverityLevel.Unspecified)
        {
            return string.Empty;
        }

        var name = level.ToString().ToUpperInvariant();
        var step = (record.SeverityNumber - 1) % 4;
        return step == 0 ? name : name + (step + 1);
    }
}
