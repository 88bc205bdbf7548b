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

        // RED and dependency edges per minute from every span before sampling, written once per log position.
        services.AddSingleton(sp => new Minutes.ClickHouseMinuteFeed(
            (ClickHouseSpanStore)sp.GetRequiredService<ISpanStore>(),
            // Without the log nothing is replayed, so any id will do.
            options.ClickHouse.Wal ? Minutes.ClickHouseMinuteFeed.NodeIdIn(Path.Combine(options.DataDirectory, Pipeline.IngestPipeline.LogDirectoryName)) : Guid.NewGuid().ToString("N"),
            options.ClickHouse.Wal,
            options.ClickHouse.MinutesInterval,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<Minutes.ClickHouseMinuteFeed>>()));
        services.AddSingleton<Pipeline.IIngestAggregator>(sp => sp.GetRequiredService<Minutes.ClickHouseMinuteFeed>());
        return services;
    }
}
