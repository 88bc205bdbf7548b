using Ariadne.Model;

namespace Ariadne.Receivers.Otlp;

/// <summary>What the protobuf and JSON logs decoders share once a record's fields are read.</summary>
internal static class OtlpLogDecoding
{
    public const string TraceIdLength =
        "A log record's trace_id is neither empty nor 16 bytes (32 hex digits in OTLP/JSON); such records are dropped, the others were stored.";

    public const string SpanIdLength =
        "A log record's span_id is neither empty nor 8 bytes (16 hex digits in OTLP/JSON); such records are dropped, the others were stored.";

    /// <summary>
    /// Null when the ids are valid, else why the record is rejected. Unlike a span's, a log record's ids are optional
    /// (logs/v1: empty when the record is not part of a trace).
    /// </summary>
    public static string? ValidateIds(int traceIdLength, int spanIdLength) =>
        traceIdLength is not (0 or TraceId.ByteLength) ? TraceIdLength
        : spanIdLength is not (0 or SpanId.ByteLength) ? SpanIdLength
        : null;

    /// <summary>The SeverityNumber enum's names, for OTLP/JSON senders that spell the enum out.</summary>
    public static readonly string[] SeverityNumberNames = BuildSeverityNames();

    private static string[] BuildSeverityNames()
    {
        var names = new string[25];
        names[0] = "SEVERITY_NUMBER_UNSPECIFIED";
        string[] levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
        for (var i = 1; i <= 24; i++)
        {
            var step = (i - 1) % 4;
            names[i] = "SEVERITY_NUMBER_" + levels[(i - 1) / 4] + (step == 0 ? string.Empty : (step + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return names;
    }
}
