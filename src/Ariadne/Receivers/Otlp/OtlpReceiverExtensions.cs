using Ariadne.Hosting;
using Ariadne.Receivers.Otlp.Grpc;
using Ariadne.Receivers.Otlp.Http;

namespace Ariadne.Receivers.Otlp;

/// <summary>Wires the OTLP receivers into the server: gRPC on the OtlpGrpc listener, HTTP on the OtlpHttp one.</summary>
public static class OtlpReceiverExtensions
{
    public static IServiceCollection AddOtlpReceivers(this IServiceCollection services)
    {
        services.AddSingleton<OtlpTraceService>();
        services.AddSingleton<OtlpHttpReceiver>();
        services.AddSingleton<OtlpGrpcReceiver>();
        return services;
    }

    public static WebApplication MapOtlpReceivers(this WebApplication app)
    {
        var metrics = OtlpIgnoredSignal.Metrics;
        var grpc = app.Services.GetRequiredService<OtlpGrpcReceiver>();
        app.MapPost(OtlpGrpcReceiver.TracePath, (RequestDelegate)grpc.HandleTracesAsync).RequireListener(Listener.OtlpGrpc);
        app.MapPost(OtlpGrpcReceiver.LogsPath, (RequestDelegate)grpc.HandleLogsAsync).RequireListener(Listener.OtlpGrpc);
        app.MapPost($"/{metrics.GrpcService}/Export", context => grpc.HandleIgnoredAsync(context, metrics)).RequireListener(Listener.OtlpGrpc);
        app.MapFallback("{**path}", grpc.HandleUnknownMethodAsync).RequireListener(Listener.OtlpGrpc);
        app.MapPost(OtlpGrpcReceiver.TracePath, (RequestDelegate)grpc.HandleForwardedTracesAsync).RequireListener(Listener.Cluster);

        var http = app.Services.GetRequiredService<OtlpHttpReceiver>();
        app.MapPost("/v1/traces", (RequestDelegate)http.HandleTracesAsync).RequireListener(Listener.OtlpHttp);
        app.MapPost("/v1/logs", (RequestDelegate)http.HandleLogsAsync).RequireListener(Listener.OtlpHttp);
        app.MapPost(metrics.HttpPath, context => http.HandleIgnoredAsync(context, metrics)).RequireListener(Listener.OtlpHttp);

        return app;
    }
}
