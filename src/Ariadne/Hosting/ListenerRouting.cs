using Microsoft.AspNetCore.Connections;

namespace Ariadne.Hosting;

/// <summary>
/// Binds endpoints to listeners. Each Kestrel listener tags its connections with a <see cref="ListenerFeature"/>
/// (connection middleware, as the Aspire Dashboard tags OTLP and browser connections), and a middleware after
/// routing answers 404 when a request reaches an endpoint of another listener. This works with port 0, where
/// the port number cannot tell listeners apart.
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

    internal static IApplicationBuilder UseListenerRouting(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var required = context.GetEndpoint()?.Metadata.GetMetadata<ListenerMetadata>();
        if (required is not null && context.Features.Get<ListenerFeature>()?.Listener != required.Listener)
        {
            context.SetEndpoint(null);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return next(context);
    });

    internal static Listener? GetListener(this HttpContext context) => context.Features.Get<ListenerFeature>()?.Listener;

    private sealed record ListenerMetadata(Listener Listener);

    private sealed record ListenerFeature(Listener Listener);
}
