using System.Collections.Concurrent;
using Ariadne.Model;
using Ariadne.Tenancy;

namespace Ariadne.Limits;

/// <summary>
/// Limits on what one span and one trace may cost, per tenant (Tenancy:Tenants:N:* over the Limits:* defaults), as
/// Tempo's max_attribute_bytes and max_bytes_per_trace and the OTel SDK's span limits: attribute values over the
/// byte limit are truncated; attributes, events and links past their count limit are dropped (and added to the
/// span's dropped counts, as the SDK does); attribute values nested deeper than the depth limit are replaced by
/// their JSON text; spans that would take their trace over its byte limit are refused. Applied once, in the ingest
/// pipeline, so every receiver gets them; each hit is counted by reason and tenant. Log records get the same
/// attribute limits and a body limit (<see cref="LimitsOptions.MaxLogBodyBytes"/>) in the log ingest pipeline.
/// </summary>
public sealed class SpanLimiter(TenantResolver tenants, LimitsOptions limits, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, TenantSpanLimits> _byTenant = new(StringComparer.Ordinal);

    /// <summary>
    /// Applies the tenant's limits to the spans in place: truncates and drops within each span, and removes the
    /// spans refused for their trace's size (<see cref="SpanLimitHits.TraceTooLarge"/>, and why in <paramref name="refusal"/>).
    /// </summary>
    public SpanLimitHits Apply(string tenant, List<Span> spans, out string? refusal)
    {
        refusal = null;
        var state = _byTenant.GetOrAdd(tenant, Create);
        var hits = new SpanLimitHits();
        var shape = state.Shape;
        if (shape.Active)
        {
            // A batch's spans share a few resources and scopes (one per ResourceSpans / ScopeSpans): each is limited
            // when first met. Limiting is idempotent, so one met again further on costs a pass and counts nothing.
            Resource? resource = null;
            InstrumentationScope? scope = null;
            foreach (var span in spans)
            {
                ApplyWhenFirstMet(shape, span.Resource, span.Scope, ref resource, ref scope, ref hits);
                shape.Apply(span, ref hits);
            }
        }

        if (state.Traces is { } traces)
        {
            var refused = traces.Admit(spans, state.MaxBytesPerTrace);
            if (refused > 0)
            {
                hits.TraceTooLarge += refused;
                refusal = $"spans refused: their trace would exceed the {state.MaxBytesPerTrace} bytes tenant '{tenant}' may hold per trace " +
                    "(Limits:MaxBytesPerTrace, Tenancy:Tenants:N:MaxBytesPerTrace); split the work into smaller traces or raise the limit.";
            }
        }

        return hits;
    }

    /// <summary>
    /// Applies the tenant's limits to log records in place: attribute bytes, count and depth as for spans, and the
    /// body to Limits:MaxLogBodyBytes. Resources and scopes get the byte and depth limits once each, as for spans.
    /// </summary>
    public SpanLimitHits Apply(string tenant, List<LogRecord> records)
    {
        var shape = _byTenant.GetOrAdd(tenant, Create).Shape;
        var hits = new SpanLimitHits();
        if (!shape.Active)
        {
            return hits;
        }

        Resource? resource = null;
        InstrumentationScope? scope = null;
        foreach (var record in records)
        {
            ApplyWhenFirstMet(shape, record.Resource, record.Scope, ref resource, ref scope, ref hits);
            shape.Apply(record, ref hits);
        }

        return hits;
    }

    /// <summary>Limits a span's or log record's resource and scope when they differ from the previous item's.</summary>
    private static void ApplyWhenFirstMet(
        SpanShapeLimits shape, Resource resource, InstrumentationScope scope, ref Resource? lastResource, ref InstrumentationScope? lastScope, ref SpanLimitHits hits)
    {
        if (!ReferenceEquals(resource, lastResource))
        {
            lastResource = resource;
            shape.ApplyToValues(resource.Attributes, ref hits);
        }

        if (!ReferenceEquals(scope, lastScope))
        {
            lastScope = scope;
            shape.ApplyToValues(scope.Attributes, ref hits);
        }
    }

    private TenantSpanLimits Create(string tenant)
    {
        var own = tenants.Find(tenant);
        var shape = new SpanShapeLimits(
            own?.MaxAttributeBytes ?? limits.MaxAttributeBytes,
            own?.MaxAttributesPerSpan ?? limits.MaxAttributesPerSpan,
            own?.MaxEventsPerSpan ?? limits.MaxEventsPerSpan,
            own?.MaxLinksPerSpan ?? limits.MaxLinksPerSpan,
            own?.MaxAttributeDepth ?? limits.MaxAttributeDepth,
            own?.MaxLogBodyBytes ?? limits.MaxLogBodyBytes);
        var maxBytesPerTrace = own?.MaxBytesPerTrace ?? limits.MaxBytesPerTrace;
        return new TenantSpanLimits(shape, maxBytesPerTrace, maxBytesPerTrace > 0 ? new TraceSizes(limits.TraceIdlePeriod, time) : null);
    }

    private sealed record TenantSpanLimits(SpanShapeLimits Shape, long MaxBytesPerTrace, TraceSizes? Traces);
}

/// <summary>How often each limit was hit in one batch of spans or log records: items truncated, dropped or flattened, spans refused.</summary>
public struct SpanLimitHits
{
    public int AttributesTruncated;
    public int AttributesDropped;
    public int EventsDropped;
    public int LinksDropped;
    public int AttributesFlattened;
    public int TraceTooLarge;

    /// <summary>Log record bodies truncated or flattened.</summary>
    public int BodiesLimited;
}
