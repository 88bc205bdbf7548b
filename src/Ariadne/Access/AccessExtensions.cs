using Ariadne.Configuration;
using Ariadne.Limits;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Ariadne.Access;

/// <summary>Wires bearer tokens, tenant checks and ingest limits into the server as one middleware after listener routing.</summary>
public static class AccessExtensions
{
    public static IServiceCollection AddAccessControl(this IServiceCollection services, AriadneOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options.Limits);
        services.AddSingleton(new BearerTokens(options.Auth));
        services.AddSingleton<TenantRateLimiter>();
        services.AddSingleton<SpanLimiter>();
        services.AddSingleton<IngestMemoryLimiter>();
        services.AddSingleton<IngestConcurrency>();
        return services;
    }

    public static IApplicationBuilder UseAccessControl(this IApplicationBuilder app) => app.UseMiddleware<AccessMiddleware>();
}
