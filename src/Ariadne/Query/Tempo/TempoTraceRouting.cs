using Microsoft.AspNetCore.Routing.Matching;

namespace Ariadne.Query.Tempo;

/// <summary>
/// <c>/api/traces/{id}</c> is Jaeger's on the query port and Tempo's on Tempo's. Grafana's Tempo data source asks it
/// for <c>Accept: application/protobuf</c>, which no Jaeger client does, so on the query port Tempo's endpoint is
/// ordered first and taken out of the candidates unless the request asks for protobuf; Jaeger's then answers.
/// </summary>
internal static class TempoTraceRouting
{
    public static TBuilder WantsProtobufOverJaeger<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            endpoint.Metadata.Add(ProtobufOnly.Instance);
            if (endpoint is RouteEndpointBuilder route)
            {
                route.Order = -1;
            }
        });
        return builder;
    }

    public static IServiceCollection AddTempoTraceRouting(this IServiceCollection services) =>
        services.AddSingleton<MatcherPolicy, ProtobufOnlyPolicy>();

    private sealed class ProtobufOnly
    {
        public static readonly ProtobufOnly Instance = new();
    }

    private sealed class ProtobufOnlyPolicy : MatcherPolicy, IEndpointSelectorPolicy
    {
        public override int Order => 1;

        public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) =>
            endpoints.Any(e => e.Metadata.GetMetadata<ProtobufOnly>() is not null);

        public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                if (candidates.IsValidCandidate(i) && candidates[i].Endpoint.Metadata.GetMetadata<ProtobufOnly>() is not null
                    && !TempoApi.WantsProtobuf(httpContext.Request))
                {
                    candidates.SetValidity(i, false);
                }
            }

            return Task.CompletedTask;
        }
    }
}
