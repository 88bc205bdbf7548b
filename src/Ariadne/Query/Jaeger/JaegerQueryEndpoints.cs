using Ariadne.Hosting;

namespace Ariadne.Query.Jaeger;

public static class JaegerQueryEndpoints
{
    /// <summary>Jaeger's query APIs, <c>/api/...</c> and <c>/api/v3/...</c>, on the query listener.</summary>
    public static void MapJaegerQuery(this IEndpointRouteBuilder app)
    {
        JaegerApi.Map(app.MapGroup("/api").RequireListener(Listener.Query));
        JaegerApiV3.Map(app.MapGroup("/api/v3").RequireListener(Listener.Query));
    }
}
