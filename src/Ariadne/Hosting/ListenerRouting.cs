using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;

namespace Ariadne.Hosting;

/// <summary>
/// Binds endpoints to listeners. Each Kestrel listener tags its connections with a <see cref="ListenerFeature"/>
/// (connection middleware, as the Aspire Dashboard tags OTLP and browser connections), and a matcher policy takes
/// the endpoints of other listeners out of routing's candidates: a path no endpoint of the request's listener has
/// is a 404, and two listeners may serve the same path (the sampling port's <c>/sampling</c> and a UI page) without
/// an ambiguous match. This works with port 0, where the port number cannot tell listeners apart.
/// </summary>
public static class ListenerRouting
{
    public static TBuilder RequireListener<TBuilder>(this TBuilder builder, Listener listener)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint => endpoint.Metadata.Add(new ListenerMetadata(listener)));
        return builder;
    }

    internal static void TagConnections(this IConnectionBuilder connections, Listener listener)
    {
        var feature = new ListenerFeature(listener);
        connections.Use(next => context =>
        {
            context.Features.Set(feature);
            return next(context);
        });
    }

    /// <summary>Makes routing pick, among the endpoints that match a request's path, only those of its listener.</summary>
    internal static IServiceCollection AddListenerRouting(this IServiceCollection services) =>
        services.AddSingleton<MatcherPolicy, ListenerMatcherPolicy>();

    internal static Listener? GetListener(this HttpContext context) => context.Features.Get<ListenerFeature>()?.Listener;

    private sealed record ListenerMetadata(Listener Listener);

    private sealed class ListenerMatcherPolicy : MatcherPolicy, IEndpointSelectorPolicy
    {
        public override int Order => 0;

        public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => true;

        public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
        {
            var listener = httpContext.GetListener();
            for (var i = 0; i < candidates.Count; i++)
            {
                // Every endpoint Ariadne maps names its listener; the one the web framework adds on its own (the
                // static-file fallback of the UI) belongs to the query listener.
                var required = candidates[i].Endpoint.Metadata.GetMetadata<ListenerMetadata>()?.Listener ?? Listener.Query;
                if (candidates.IsValidCandidate(i) && required != listener)
                {
                    candidates.SetValidity(i, false);
                }
            }

            return Task.CompletedTask;
        }
    }

    private sealed record ListenerFeature(Listener Listener);
}
