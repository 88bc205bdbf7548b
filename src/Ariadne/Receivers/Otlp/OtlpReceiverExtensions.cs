using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Receivers.Otlp.Grpc;
using Ariadne.Receivers.Otlp.Http;
using Ariadne.Receivers.Otlp.Logs;
using Grpc.AspNetCore.Server;

namespace Ariadne.Receivers.Otlp;

/// <summary>Wires the OTLP receivers into the server: gRPC on the OtlpGrpc listener, HTTP on the OtlpHttp one.</summary>
public static class OtlpReceiverExtensions
{
    public static IServiceCollection AddOtlpReceivers(this IServiceCollection services, AriadneOptions options)
    {
        var maxBytes = (int)Math.Min(options.Ingest.MaxRequestBytes, int.MaxValue);
        services.AddSingleton<OtlpTraceService>();
        services.AddSingleton<OtlpHttpReceiver>();
        services.AddSingleton<OtlpGrpcTraceService>();
        services.AddSingleton<OtlpGrpcLogsService>();
        services.AddSingleton<OtlpGrpcIgnoredSignalsService>();
        services.AddGrpc()
            .AddServiceOptions<OtlpGrpcTraceService>(grpc => ConfigureGrpc(grpc, maxBytes))
            .AddServiceOptions<OtlpGrpcLogsService>(grpc => ConfigureGrpc(grpc, maxBytes))
            .AddServiceOptions<OtlpGrpcIgnoredSignalsService>(grpc => ConfigureGrpc(grpc, maxBytes));
        return services;
    }

    public static WebApplication MapOtlpReceivers(this WebApplication app)
    {
        app.UseOtlpGrpc(app.Services.GetRequiredService<OtlpTraceService>());
        app.MapGrpcService<OtlpGrpcTraceService>().RequireListener(Listener.OtlpGrpc);
        app.MapGrpcService<OtlpGrpcLogsService>().RequireListener(Listener.OtlpGrpc);
        app.MapGrpcService<OtlpGrpcIgnoredSignalsService>().RequireListener(Listener.OtlpGrpc);

        var http = app.Services.GetRequiredService<OtlpHttpReceiver>();
        app.MapPost("/v1/traces", (RequestDelegate)http.HandleTracesAsync).RequireListener(Listener.OtlpHttp);
        app.MapPost("/v1/logs", (RequestDelegate)http.HandleLogsAsync).RequireListener(Listener.OtlpHttp);
        var metrics = OtlpIgnoredSignal.Metrics;
        app.MapPost(metrics.HttpPath, context => http.HandleIgnoredAsync(context, metrics)).RequireListener(Listener.OtlpHttp);

        return app;
    }

    private static void ConfigureGrpc(GrpcServiceOptions grpc, int maxBytes)
    {
        // Over the limit → ResourceExhausted. The cap on the compressed size is Grpc.AspNetCore's; the provider
        // applies it again after decompression.
        grpc.MaxReceiveMessageSize = maxBytes;
        grpc.CompressionProviders = [new BoundedGzipCompressionProvider(maxBytes)];
    }
}
