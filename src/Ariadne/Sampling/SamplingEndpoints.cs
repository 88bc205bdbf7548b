using Ariadne.Sampling.Remote;
using Ariadne.Tenancy;

namespace Ariadne.Sampling;

internal static class SamplingEndpoints
{
    /// <summary>Jaeger's handler: exactly one service parameter, else 400 with Jaeger's message.</summary>
    public static IResult GetStrategy(HttpRequest request, ISamplingStrategyProvider provider)
    {
        var services = request.Query["service"];
        if (services.Count != 1)
        {
            return Results.Text("'service' parameter must be provided once\n", statusCode: StatusCodes.Status400BadRequest);
        }

        return Results.Text(provider.GetStrategy(services[0] ?? string.Empty).ToJaegerJson(), "application/json");
    }

    public static IResult GetReport(HttpRequest request, TenantResolver tenants, SamplingReporter reporter)
    {
        var tenant = tenants.Resolve(request);
        if (tenant is null)
        {
            return Results.Text($"The {tenants.HeaderName} header does not hold a tenant id (1-64 letters, digits, '-', '_' or '.').\n", statusCode: StatusCodes.Status400BadRequest);
        }

        return Results.Json(reporter.Build(tenant));
    }
}
