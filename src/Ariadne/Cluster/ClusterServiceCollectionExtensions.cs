using Ariadne.Configuration;

namespace Ariadne.Cluster;

public static class ClusterServiceCollectionExtensions
{
    /// <summary>Cluster mode's membership and forwarder, when <c>Cluster:Peers</c> is set; nothing otherwise.</summary>
    public static IServiceCollection AddCluster(this IServiceCollection services, AriadneOptions options)
    {
        if (!options.Cluster.Enabled)
        {
            return services;
        }

        services.AddSingleton(options.Cluster);
        services.AddSingleton<ClusterMembership>();
        services.AddHostedService(s => s.GetRequiredService<ClusterMembership>());
        services.AddSingleton<ClusterForwarder>();
        return services;
    }
}
