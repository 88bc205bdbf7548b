using Ariadne.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Ariadne.Storage.ClickHouse;

public static class ClickHouseServiceCollectionExtensions
{
    /// <summary>With <c>Storage = clickhouse</c>, the service that migrates at start-up and runs retention.</summary>
    public static IServiceCollection AddClickHouseMaintenance(this IServiceCollection services, AriadneOptions options)
    {
        if (options.Storage != "clickhouse")
        {
            return services;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new ClickHouseMaintenance(
            (ClickHouseSpanStore)sp.GetRequiredService<ISpanStore>(),
            options.ClickHouse.WithTenantRetention(options.Tenancy),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ClickHouseMaintenance>>()));
        services.AddHostedService(sp => sp.GetRequiredService<ClickHouseMaintenance>());
        return services;
    }
}
