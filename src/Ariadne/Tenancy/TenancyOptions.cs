namespace Ariadne.Tenancy;

/// <summary>Tenancy settings (<c>Tenancy:*</c> keys): how a request names its tenant, and the known tenants.</summary>
public sealed class TenancyOptions
{
    /// <summary>Header that names the tenant on ingest and query. Tempo's X-Scope-OrgID is always accepted too.</summary>
    public string Header { get; set; } = "x-tenant";

    /// <summary>Tenant of requests that name none.</summary>
    public string DefaultTenant { get; set; } = "default";

    /// <summary>When true, a tenant not listed in <see cref="Tenants"/> is refused (401) on ingest and query.</summary>
    public bool RequireKnownTenant { get; set; }

    /// <summary>Known tenants with their own settings; settings left out fall back to the server-wide ones.</summary>
    public List<TenantOptions> Tenants { get; set; } = [];

    /// <summary>The tenants that set their own DetailedRetention, by id (the first entry of an id wins).</summary>
    public Dictionary<string, TimeSpan> DetailedRetentions() => Tenants
        .Where(t => t.DetailedRetention is not null)
        .DistinctBy(t => t.Id)
        .ToDictionary(t => t.Id, t => t.DetailedRetention!.Value, StringComparer.Ordinal);

    public IReadOnlyList<string> Validate(long maxRequestBytes)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Header))
        {
            errors.Add("Tenancy:Header: must name an HTTP header, such as x-tenant.");
        }

        if (!TenantResolver.IsValidTenant(DefaultTenant))
        {
            errors.Add($"Tenancy:DefaultTenant: '{DefaultTenant}' is not a valid tenant id (1-64 letters, digits, '-', '_' or '.').");
        }

        if (RequireKnownTenant && Tenants.Count == 0)
        {
            errors.Add("Tenancy:RequireKnownTenant: is true but Tenancy:Tenants is empty, so every request would be refused; list the tenants (Tenancy:Tenants:0:Id=...).");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Tenants.Count; i++)
        {
            var tenant = Tenants[i];
            var key = $"Tenancy:Tenants:{i}";
            if (!TenantResolver.IsValidTenant(tenant.Id))
            {
                errors.Add($"{key}:Id: '{tenant.Id}' is not a valid tenant id (1-64 letters, digits, '-', '_' or '.').");
            }
            else if (!seen.Add(tenant.Id))
            {
                errors.Add($"{key}:Id: tenant '{tenant.Id}' is listed twice; merge its settings into one entry.");
            }

            if (tenant.IngestRateSpansPerSecond is < 0)
            {
                errors.Add($"{key}:IngestRateSpansPerSecond: {tenant.IngestRateSpansPerSecond} must be 0 (unlimited) or more.");
            }

            if (tenant.IngestBurstSpans is < 0)
            {
                errors.Add($"{key}:IngestBurstSpans: {tenant.IngestBurstSpans} must be 0 (one second of the rate) or more.");
            }

            if (tenant.MaxRequestBytes is { } bytes && (bytes < 1024 || bytes > maxRequestBytes))
            {
                errors.Add($"{key}:MaxRequestBytes: {bytes} must be between 1024 and Ingest:MaxRequestBytes ({maxRequestBytes}).");
            }

            Limits.LimitsOptions.SpanLimitErrors(key, tenant.MaxAttributeBytes, tenant.MaxAttributesPerSpan, tenant.MaxEventsPerSpan,
                tenant.MaxLinksPerSpan, tenant.MaxAttributeDepth, tenant.MaxBytesPerTrace, tenant.MaxLogBodyBytes, errors);
            if (tenant.DetailedRetention is { } retention && retention <= TimeSpan.Zero)
            {
                errors.Add($"{key}:DetailedRetention: {retention} must be positive, such as 3.00:00:00 for three days.");
            }
        }

        return errors;
    }
}

/// <summary>One known tenant (<c>Tenancy:Tenants:N:*</c>). Unset settings take the server-wide value.</summary>
public sealed class TenantOptions
{
    public string Id { get; set; } = string.Empty;

    /// <summary>Spans per second this tenant may send (token bucket); 0 is unlimited. Default Limits:IngestRateSpansPerSecond.</summary>
    public double? IngestRateSpansPerSecond { get; set; }

    /// <summary>Spans the bucket holds. Default Limits:IngestBurstSpans.</summary>
    public long? IngestBurstSpans { get; set; }

    /// <summary>Largest request on the wire (before decompression); at most Ingest:MaxRequestBytes, which is the default.</summary>
    public long? MaxRequestBytes { get; set; }

    /// <summary>Default Limits:MaxAttributeBytes.</summary>
    public int? MaxAttributeBytes { get; set; }

    /// <summary>Default Limits:MaxAttributesPerSpan.</summary>
    public int? MaxAttributesPerSpan { get; set; }

    /// <summary>Default Limits:MaxEventsPerSpan.</summary>
    public int? MaxEventsPerSpan { get; set; }

    /// <summary>Default Limits:MaxLinksPerSpan.</summary>
    public int? MaxLinksPerSpan { get; set; }

    /// <summary>Default Limits:MaxAttributeDepth.</summary>
    public int? MaxAttributeDepth { get; set; }

    /// <summary>Default Limits:MaxBytesPerTrace.</summary>
    public long? MaxBytesPerTrace { get; set; }

    /// <summary>Default Limits:MaxLogBodyBytes.</summary>
    public int? MaxLogBodyBytes { get; set; }

    /// <summary>How long the embedded engine keeps this tenant's spans. Default Embedded:DetailedRetention.</summary>
    public TimeSpan? DetailedRetention { get; set; }
}
