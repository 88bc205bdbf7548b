using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Receivers.Jaeger.Grpc;
using Ariadne.Receivers.Jaeger.Http;
using Ariadne.Receivers.Jaeger.Udp;

namespace Ariadne.Receivers.Jaeger;

/// <summary>
/// Wires Jaeger-native ingest into the server: Thrift over HTTP and gRPC on their listeners, and the agent's two UDP
/// ports as background services. A port set to 0 leaves its receiver out.
/// </summary>
public static class JaegerReceiverExtensions
{
    public static IServiceCollection AddJaegerReceivers(this IServiceCollection services, AriadneOptions options)
    {
        services.AddSingleton<JaegerIngest>();
        services.AddSingleton<JaegerGrpcReceiver>();
        foreach (var (port, compact) in new[] { (options.Ports.JaegerCompact, true), (options.Ports.JaegerBinary, false) })
        {
            if (port != 0)
            {
                // Not AddHostedService: it adds one service per implementation type, and both ports share one type.
                services.AddSingleton<IHostedService>(provider => ActivatorUtilities.CreateInstance<JaegerUdpReceiver>(provider, port, compact, options.ListenAddress));
            }
        }

        return services;
    }

    public static WebApplication MapJaegerReceivers(this WebApplication app)
    {
        JaegerThriftHttpReceiver.Map(app);
        var grpc = app.Services.GetRequiredService<JaegerGrpcReceiver>();
        app.MapPost(JaegerGrpcReceiver.PostSpansPath, (RequestDelegate)grpc.HandlePostSpansAsync).RequireListener(Listener.JaegerGrpc);
        app.MapFallback("{**path}", grpc.HandleUnknownMethodAsync).RequireListener(Listener.JaegerGrpc);
        return app;
    }
}
