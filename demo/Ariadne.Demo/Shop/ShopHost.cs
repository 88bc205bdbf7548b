using System.Diagnostics;
using Ariadne.Instrumentation;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Ariadne.Demo.Shop;

/// <summary>What every shop service shares: its listener, the Ariadne SDK, single-line logs with trace ids, /health.</summary>
internal static class ShopHost
{
    public const string SourceName = "Ariadne.Demo";

    public static readonly ActivitySource Source = new(SourceName);

    public static WebApplicationBuilder CreateBuilder(string service, string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var settings = ShopSettings.From(builder.Configuration);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(new FaultSwitchboard(settings.FaultsFile));
        builder.WebHost.UseUrls(settings.UrlOf(service).ToString());
        if (ShopSettings.IsGrpc(service))
        {
            builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.IncludeScopes = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Error);
        builder.AddAriadneTracing(service, options => options.Sources.Add(SourceName));
        return builder;
    }

    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            try
            {
                await next();
            }
            catch (Exception e) when (context.RequestAborted.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // The caller went away (the traffic stopped, or gave up): nobody to answer, and no stack trace for the log.
            }
        });
        app.MapGet("/health", () => "OK");

        // Each process reads the faults file on its own: this shows what this one currently applies.
        var faults = app.Services.GetRequiredService<FaultSwitchboard>();
        app.MapGet("/admin/faults", () => faults.Current);
        ParentWatch.Start(app.Configuration["DEMO_PARENT_PID"], app.Lifetime.StopApplication);
        return app;
    }
}
