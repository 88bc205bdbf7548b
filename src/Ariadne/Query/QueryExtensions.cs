using Ariadne.Alerts;
using Ariadne.Analysis;
using Ariadne.Hosting;
using Ariadne.Query.Api;
using Ariadne.Query.Jaeger;
using Ariadne.Query.Tempo;
using Ariadne.Storage;

namespace Ariadne.Query;

public static class QueryExtensions
{
    /// <summary>The read side: the query service and what it composes, and the RED source alert rules read.</summary>
    public static IServiceCollection AddAriadneQuery(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<PreSamplingFigures>();
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<Regions.RegionFederation>(sp, sp.GetRequiredService<Configuration.AriadneOptions>().Cluster));
        services.AddSingleton<TraceQueryService>();
        services.AddTempoTraceRouting();
        // On ClickHouse every node reads the figures every node writes; otherwise this node's own aggregator.
        services.AddSingleton<IRedSource>(sp => sp.GetRequiredService<ISpanStore>() is Storage.ClickHouse.ClickHouseSpanStore clickHouse
            ? new CallMinutesRedSource(clickHouse)
            : new SpanMetricsRedSource(
                sp.GetRequiredService<SpanMetricsAggregator>(), new StoredSpanRedSource(sp.GetRequiredService<ISpanStore>()), sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    /// <summary>
    /// The query APIs on the query listener: Jaeger's <c>/api/...</c> and <c>/api/v3/...</c>, Ariadne's
    /// <c>/api/ariadne/...</c>, and Tempo's, which its own listener serves too.
    /// </summary>
    public static void MapAriadneQuery(this IEndpointRouteBuilder app)
    {
        JaegerApi.Map(app.MapGroup("/api").RequireListener(Listener.Query));
        JaegerApiV3.Map(app.MapGroup("/api/v3").RequireListener(Listener.Query));
        TempoApi.Map(app);
        app.MapAriadneApi();
    }
}
