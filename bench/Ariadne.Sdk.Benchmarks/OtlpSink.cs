using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ariadne.Sdk.Benchmarks;

/// <summary>
/// An OTLP/gRPC endpoint that reads every export (traces, metrics, logs) to its end and answers success with an
/// empty response, decoding and storing nothing: the least a collector can cost, so that the overhead bench can
/// measure the SDK without the server's ingest on the same cores.
/// </summary>
internal sealed class OtlpSink : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpSink(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public static async Task<OtlpSink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        app.MapPost("/{**method}", async (HttpContext context) =>
        {
            var body = context.Request.BodyReader;
            while (true)
            {
                var read = await body.ReadAsync(context.RequestAborted);
                body.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            context.Response.ContentType = "application/grpc";
            context.Response.DeclareTrailer("grpc-status");
            // One gRPC message of zero bytes: every Export*ServiceResponse without partial success.
            await context.Response.Body.WriteAsync(new byte[5], context.RequestAborted);
            context.Response.AppendTrailer("grpc-status", "0");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new OtlpSink(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
