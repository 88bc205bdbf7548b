using Microsoft.Extensions.Primitives;

namespace Ariadne.Tenancy;

/// <summary>
/// Reads the tenant from the configured header (or Tempo's X-Scope-OrgID) on ingest and query, unless the
/// request's bearer token is bound to a tenant (a <see cref="TenantBinding"/> set by the access check); knows
/// the configured tenants.
/// </summary>
public sealed class TenantResolver(TenancyOptions options)
{
    public const string TempoHeader = "X-Scope-OrgID";

    private readonly Dictionary<string, TenantOptions> _known = options.Tenants.DistinctBy(t => t.Id).ToDictionary(t => t.Id, StringComparer.Ordinal);

    public string HeaderName => options.Header;

    /// <summary>The tenant of a request, or null when the header holds something that is not a tenant id.</summary>
    public string? Resolve(StringValues configuredHeader, StringValues tempoHeader)
    {
        var value = !StringValues.IsNullOrEmpty(configuredHeader) ? configuredHeader.ToString()
            : !StringValues.IsNullOrEmpty(tempoHeader) ? tempoHeader.ToString()
            : null;
        if (value is null)
        {
            return options.DefaultTenant;
        }

        return IsValidTenant(value) ? value : null;
    }

    public string? Resolve(HttpRequest request) =>
        request.HttpContext.Features.Get<TenantBinding>()?.Tenant ?? ResolveFromHeaders(request);

    /// <summary>The tenant the request's headers name (or the default one), ignoring any token binding.</summary>
    public string? ResolveFromHeaders(HttpRequest request) =>
        Resolve(request.Headers[options.Header], request.Headers[TempoHeader]);

    /// <summary>
    /// For views that span tenants (alerts): the tenant the request is limited to, by its token's binding or a
    /// tenant header; null when it names none (an operator's unbound token sees every tenant there).
    /// False when the header is malformed.
    /// </summary>
    public bool TryGetScope(HttpRequest request, out string? tenant)
    {
        tenant = request.HttpContext.Features.Get<TenantBinding>()?.Tenant;
        if (tenant is not null || !NamesTenant(request))
        {
            return true;
        }

        tenant = ResolveFromHeaders(request);
        return tenant is not null;
    }

    /// <summary>Whether the request names a tenant in a header at all.</summary>
    public bool NamesTenant(HttpRequest request) =>
        !StringValues.IsNullOrEmpty(request.Headers[options.Header]) || !StringValues.IsNullOrEmpty(request.Headers[TempoHeader]);

    /// <summary>False only when Tenancy:RequireKnownTenant is on and the tenant is not in Tenancy:Tenants.</summary>
    public bool IsAllowed(string tenant) => !options.RequireKnownTenant || _known.ContainsKey(tenant);

    /// <summary>The configured settings of a tenant, or null when it is not listed.</summary>
    public TenantOptions? Find(string tenant) => _known.GetValueOrDefault(tenant);

    public static bool IsValidTenant(string tenant)
    {
        if (tenant.Length is 0 or > 64)
        {
            return false;
        }

        foreach (var c in tenant)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The tenant a request's bearer token is bound to; it overrides the tenant headers.</summary>
public sealed record TenantBinding(string Tenant);
