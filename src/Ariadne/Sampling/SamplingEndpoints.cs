using Ariadne.Sampling.Remote;
using Ariadne.Tenancy;

namespace Ariadne.Sampling;

internal static class SamplingEndpoints
{
    /// <summary>
    /// Jaeger's handler: exactly one service parameter, else 400 with Jaeger's message. The strategy is the tenant's:
    /// on the query port the token's tenant (or the tenant header), on the unauthenticated sampling port the tenant
    /// header (Tenancy:Header or X-Scope-OrgID), else Tenancy:DefaultTenant.
    /// </summary>
    public static IResult GetStrategy(HttpRequest request, TenantResolver tenants, ISamplingStrategyProvider provider)
    {
        var services = request.Query["service"];
        if (services.Count != 1)
        {
            return Results.Text("'service' parameter must be provided once\n", statusCode: StatusCodes.Status400BadRequest);
        }

        if (tenants.Resolve(request) is not { } tenant)
        {
            return BadTenant(tenants);
        }

        return Results.Text(provider.GetStrategy(tenant, services[0] ?? string.Empty).ToJaegerJson(), "application/json");
    }

    public static IResult GetReport(HttpRequest request, TenantResolver tenants, SamplingReporter reporter)
    {
        var tenant = tenants.Resolve(request);
        return tenant is null ? BadTenant(tenants) : Results.Json(reporter.Build(tenant));
    }

    private static IResult BadTenant(TenantResolver tenants) =>
        Results.Text($"The {tenants.HeaderName} header does not hold a tenant id (1-64 letters, digits, '-', '_' or '.').\n", statusCode: StatusCodes.Status400BadRequest);
}
