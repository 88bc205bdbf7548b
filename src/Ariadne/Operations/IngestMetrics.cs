using Ariadne.Limits;
using Prometheus;

namespace Ariadne.Operations;

/// <summary>Ingest counters exposed on /metrics. Updated once per request, never per span.</summary>
public sealed class IngestMetrics
{
    private readonly Counter _accepted;
    private readonly Counter _rejected;
    private readonly Counter _requestsFailed;
    private readonly Counter _signalsIgnored;
    private readonly Counter _logsAccepted;
    private readonly Counter _logsRejected;
    private readonly Counter _logsUncorrelated;
    private readonly Counter _discarded;
    private readonly Counter _limited;
    private readonly Counter _logsLimited;
    private readonly Counter _duplicates;

    public IngestMetrics(CollectorRegistry registry)
    {
        var factory = ServerMetrics.Factory(registry);
        _accepted = factory.CreateCounter("ariadne_spans_accepted_total", "Spans accepted and handed to storage.", ["protocol", "tenant"]);
        _rejected = factory.CreateCounter("ariadne_spans_rejected_total", "Spans rejected individually (invalid ids), reported as OTLP partial success.", ["protocol", "tenant"]);
        _requestsFailed = factory.CreateCounter("ariadne_ingest_requests_failed_total", "Ingest requests refused as a whole.", ["protocol", "reason"]);
        _signalsIgnored = factory.CreateCounter("ariadne_signals_ignored_total", "OTLP metrics accepted but not stored (Ariadne stores traces and their logs).", ["signal"]);
        _logsAccepted = factory.CreateCounter("ariadne_log_records_accepted_total", "OTLP log records with a trace id, handed to storage.", ["protocol", "tenant"]);
        _logsRejected = factory.CreateCounter("ariadne_log_records_rejected_total", "Log records rejected individually (ids of the wrong length), reported as OTLP partial success.", ["protocol", "tenant"]);
        _logsUncorrelated = factory.CreateCounter("ariadne_log_records_uncorrelated_total", "Log records accepted without a trace id and not stored: Ariadne keeps logs to show them with their trace.", ["protocol", "tenant"]);
        _discarded = factory.CreateCounter("ariadne_discarded_spans_total", "Spans refused by a per-tenant limit (as Tempo's tempo_discarded_spans_total): reason trace_too_large (Limits:MaxBytesPerTrace).", ["reason", "tenant"]);
        _logsLimited = factory.CreateCounter("ariadne_log_limited_items_total", "Parts of log records changed by a per-tenant limit: reason body_limited (bodies over Limits:MaxLogBodyBytes, truncated, or nested deeper than Limits:MaxAttributeDepth, flattened), attribute_truncated, attribute_dropped, attribute_flattened (as for spans).", ["reason", "tenant"]);
        _duplicates = factory.CreateCounter("ariadne_duplicate_spans_total", "Spans of a request sent again that this node had logged already in the last minutes (cluster mode: a client's retry after a refused or lost answer): acknowledged, not stored or counted again.", ["tenant"]);
        _limited = factory.CreateCounter("ariadne_span_limited_items_total", "Parts of spans changed by a per-tenant span limit: reason attribute_truncated (keys and values over Limits:MaxAttributeBytes), attribute_dropped, event_dropped, link_dropped (over Limits:MaxAttributesPerSpan / MaxEventsPerSpan / MaxLinksPerSpan), attribute_flattened (nested deeper than Limits:MaxAttributeDepth).", ["reason", "tenant"]);
    }

    public void RecordDuplicate(string tenant, int spans) => _duplicates.WithLabels(tenant).Inc(spans);

    public void RecordIngest(string protocol, string tenant, int accepted, int rejected)
    {
        _accepted.WithLabels(protocol, tenant).Inc(accepted);
        if (rejected > 0)
        {
            _rejected.WithLabels(protocol, tenant).Inc(rejected);
        }
    }

    /// <summary>What the span limits did to one batch.</summary>
    public void RecordSpanLimits(string tenant, in SpanLimitHits hits)
    {
        Add(_discarded, "trace_too_large", tenant, hits.TraceTooLarge);
        Add(_limited, "attribute_truncated", tenant, hits.AttributesTruncated);
        Add(_limited, "attribute_dropped", tenant, hits.AttributesDropped);
        Add(_limited, "event_dropped", tenant, hits.EventsDropped);
        Add(_limited, "link_dropped", tenant, hits.LinksDropped);
        Add(_limited, "attribute_flattened", tenant, hits.AttributesFlattened);
    }

    /// <summary>What the limits did to one batch of log records.</summary>
    public void RecordLogLimits(string tenant, in SpanLimitHits hits)
    {
        Add(_logsLimited, "body_limited", tenant, hits.BodiesLimited);
        Add(_logsLimited, "attribute_truncated", tenant, hits.AttributesTruncated);
        Add(_logsLimited, "attribute_dropped", tenant, hits.AttributesDropped);
        Add(_logsLimited, "attribute_flattened", tenant, hits.AttributesFlattened);
    }

    public void RecordLogIngest(string protocol, string tenant, int accepted, int rejected, int uncorrelated)
    {
        _logsAccepted.WithLabels(protocol, tenant).Inc(accepted);
        if (rejected > 0)
        {
            _logsRejected.WithLabels(protocol, tenant).Inc(rejected);
        }

        if (uncorrelated > 0)
        {
            _logsUncorrelated.WithLabels(protocol, tenant).Inc(uncorrelated);
        }
    }

    /// <summary>
    /// A request refused whole: reason is one of malformed, too_large, unsupported_media_type, bad_tenant,
    /// unavailable, unauthenticated (no or wrong bearer token), forbidden (token scope or tenant), unknown_tenant,
    /// rate_limited (the tenant's spans/s) or overloaded (the server's memory bounds).
    /// </summary>
    public void RecordFailedRequest(string protocol, string reason) => _requestsFailed.WithLabels(protocol, reason).Inc();

    /// <summary>Items of a signal accepted without storing: signal is metrics (metrics).</summary>
    public void RecordIgnoredSignal(string signal, long items) => _signalsIgnored.WithLabels(signal).Inc(items);

    private static void Add(Counter counter, string reason, string tenant, int count)
    {
        if (count > 0)
        {
            counter.WithLabels(reason, tenant).Inc(count);
        }
    }
}
