namespace Ariadne.Limits;

/// <summary>
/// Ingest limits (<c>Limits:*</c> keys): the per-tenant rate defaults and the server-wide memory bounds under
/// which new ingest requests are refused with 429 / RESOURCE_EXHAUSTED and a retry delay.
/// </summary>
public sealed class LimitsOptions
{
    /// <summary>Spans per second each tenant may send, unless Tenancy:Tenants sets its own; 0 is unlimited.</summary>
    public double IngestRateSpansPerSecond { get; set; }

    /// <summary>Spans a tenant's bucket holds (the burst it may send at once); 0 means one second of the rate.</summary>
    public long IngestBurstSpans { get; set; }

    /// <summary>Request bytes (as sent, before decompression) being received and decoded at once, all tenants together.</summary>
    public long MaxInFlightBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// The heap's hard limit: over it a full GC is forced every second; ingest is already refused over the soft limit
    /// (<see cref="HeapSpikePercent"/> below it). 0 uses <see cref="MaxHeapPercent"/>.
    /// </summary>
    public long MaxHeapBytes { get; set; }

    /// <summary>...as a percentage of the memory the GC may use (the container limit, else physical memory); 0 with MaxHeapBytes 0 turns the bound off.</summary>
    public int MaxHeapPercent { get; set; } = 80;

    /// <summary>
    /// How far below the hard limit the soft one is, in percent of it (the memory_limiter's spike_limit_percentage):
    /// room for what the requests already admitted allocate. Ingest resumes once the heap is back under it.
    /// </summary>
    public int HeapSpikePercent { get; set; } = 20;

    /// <summary>
    /// Ingest requests read, decoded and stored at once (the rest wait their turn), so that ingest at full load
    /// leaves the queries room; 0 means four per core.
    /// </summary>
    public int MaxConcurrentIngestRequests { get; set; }

    /// <summary><see cref="MaxConcurrentIngestRequests"/> with its default applied.</summary>
    internal int ConcurrentIngestRequests => MaxConcurrentIngestRequests > 0 ? MaxConcurrentIngestRequests : 4 * Environment.ProcessorCount;

    /// <summary>
    /// The operating-system priority (Linux nice value, 1 to 19) that admitted ingest requests run at, on threads of
    /// their own, so that queries get the cores first while ingest saturates them; 0 runs them on the thread pool
    /// at normal priority, beside the queries.
    /// </summary>
    public int IngestNice { get; set; } = 10;

    /// <summary>
    /// Longest attribute key or value in UTF-8 bytes (strings and byte arrays, also inside arrays and maps); longer
    /// ones are truncated, as Tempo's max_attribute_bytes does. 0 is unlimited.
    /// </summary>
    public int MaxAttributeBytes { get; set; } = 16 * 1024;

    /// <summary>Attributes kept per span, event and link (the first ones; the OTel SDK's default 128). 0 is unlimited.</summary>
    public int MaxAttributesPerSpan { get; set; } = 128;

    /// <summary>Events kept per span (the first ones; the OTel SDK's default 128). 0 is unlimited.</summary>
    public int MaxEventsPerSpan { get; set; } = 128;

    /// <summary>Links kept per span (the first ones; the OTel SDK's default 128). 0 is unlimited.</summary>
    public int MaxLinksPerSpan { get; set; } = 128;

    /// <summary>Arrays and maps an attribute value may nest; deeper ones are kept as their JSON text. 0 is unlimited.</summary>
    public int MaxAttributeDepth { get; set; } = 8;

    /// <summary>
    /// Longest log record body in UTF-8 bytes (a string body, or the strings and byte arrays of a structured one);
    /// longer ones are truncated. A log record's attributes get the attribute limits above. 0 is unlimited.
    /// </summary>
    public int MaxLogBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Bytes a trace may send (about its OTLP size) while it is live; spans past it are refused (Tempo's max_bytes_per_trace). 0 is unlimited.</summary>
    public long MaxBytesPerTrace { get; set; } = 5_000_000;

    /// <summary>A trace that sent nothing for this long (up to twice it) starts its byte count again.</summary>
    public TimeSpan TraceIdlePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The retry delay sent when the memory bounds refuse a request.</summary>
    public TimeSpan OverloadRetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (IngestRateSpansPerSecond < 0 || double.IsNaN(IngestRateSpansPerSecond))
        {
            errors.Add($"Limits:IngestRateSpansPerSecond: {IngestRateSpansPerSecond} must be 0 (unlimited) or more.");
        }

        if (IngestBurstSpans < 0)
        {
            errors.Add($"Limits:IngestBurstSpans: {IngestBurstSpans} must be 0 (one second of the rate) or more.");
        }

        if (MaxInFlightBytes < 1)
        {
            errors.Add($"Limits:MaxInFlightBytes: {MaxInFlightBytes} must be positive (default 268435456).");
        }

        if (MaxConcurrentIngestRequests < 0)
        {
            errors.Add($"Limits:MaxConcurrentIngestRequests: {MaxConcurrentIngestRequests} must be 0 (four per core) or more.");
        }

        if (IngestNice is < 0 or > 19)
        {
            errors.Add($"Limits:IngestNice: {IngestNice} must be between 0 (normal priority, on the thread pool) and 19 (default 10).");
        }

        if (MaxHeapBytes < 0)
        {
            errors.Add($"Limits:MaxHeapBytes: {MaxHeapBytes} must be 0 (use Limits:MaxHeapPercent) or a byte count.");
        }

        if (MaxHeapPercent is < 0 or > 100)
        {
            errors.Add($"Limits:MaxHeapPercent: {MaxHeapPercent} must be between 0 (off) and 100 (default 80).");
        }

        if (HeapSpikePercent is < 0 or > 90)
        {
            errors.Add($"Limits:HeapSpikePercent: {HeapSpikePercent} must be between 0 (refuse only over MaxHeapBytes) and 90 (default 20).");
        }

        SpanLimitErrors("Limits", MaxAttributeBytes, MaxAttributesPerSpan, MaxEventsPerSpan, MaxLinksPerSpan, MaxAttributeDepth, MaxBytesPerTrace, MaxLogBodyBytes, errors);
        if (TraceIdlePeriod < TimeSpan.FromSeconds(1))
        {
            errors.Add($"Limits:TraceIdlePeriod: {TraceIdlePeriod} must be at least 00:00:01 (default 00:00:30).");
        }

        if (OverloadRetryAfter < TimeSpan.FromSeconds(1) || OverloadRetryAfter > TimeSpan.FromHours(1))
        {
            errors.Add($"Limits:OverloadRetryAfter: {OverloadRetryAfter} must be between 00:00:01 and 01:00:00 (Retry-After counts whole seconds).");
        }

        return errors;
    }

    /// <summary>The span and log record limits' checks, for the server-wide keys and each tenant's (null: not set).</summary>
    internal static void SpanLimitErrors(
        string prefix, long? attributeBytes, long? attributes, long? events, long? links, long? depth, long? traceBytes, long? logBodyBytes, List<string> errors)
    {
        Check("MaxAttributeBytes", attributeBytes, 16, "16384");
        Check("MaxAttributesPerSpan", attributes, 1, "128");
        Check("MaxEventsPerSpan", events, 1, "128");
        Check("MaxLinksPerSpan", links, 1, "128");
        Check("MaxAttributeDepth", depth, 1, "8");
        Check("MaxBytesPerTrace", traceBytes, 1024, "5000000");
        Check("MaxLogBodyBytes", logBodyBytes, 16, "65536");

        void Check(string key, long? value, long least, string fallback)
        {
            if (value is { } v && v != 0 && v < least)
            {
                errors.Add($"{prefix}:{key}: {v} must be 0 (unlimited) or at least {least} (default {fallback}).");
            }
        }
    }
}
