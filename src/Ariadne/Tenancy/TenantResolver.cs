using Ariadne.Configuration;
using Microsoft.Extensions.Primitives;

namespace Ariadne.Tenancy;

/// <summary>Reads the tenant from the configured header (or Tempo's X-Scope-OrgID) on ingest and query.</summary>
public sealed class TenantResolver(TenancyOptions options)
{
    public const string TempoHeader = "X-Scope-OrgID";

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
        Resolve(request.Headers[options.Header], request.Headers[TempoHeader]);

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
