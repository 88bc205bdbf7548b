using System.Reflection;
using Ariadne.Hosting;
using Ariadne.Ui.Components;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting.StaticWebAssets;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Ariadne.Ui;

/// <summary>
/// The web UI on the Query listener: Blazor components rendered on the server (interactive over the
/// <c>_blazor</c> WebSocket, as the .NET Aspire Dashboard does), plus Ariadne's own CSS/JS, embedded in the
/// assembly so a single-file `ariadne` serves them without a wwwroot folder next to it and never from a CDN.
/// </summary>
public static class UiEndpoints
{
    private const string AssetPrefix = "ui/";
    private static readonly FileExtensionContentTypeProvider s_contentTypes = new();

    public static WebApplicationBuilder AddAriadneUi(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddSingleton<PrerenderedTraces>();
        // Circuit state dies with the process anyway; keys in memory write nothing to the user profile.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();

        // A build (not a publish) serves blazor.web.js from the NuGet cache through the runtime manifest, which
        // is named after this assembly even when a test host is the entry assembly.
        var runtimeManifest = Path.Combine(AppContext.BaseDirectory, "ariadne.staticwebassets.runtime.json");
        if (File.Exists(runtimeManifest))
        {
            builder.Configuration[WebHostDefaults.StaticWebAssetsKey] = runtimeManifest;
            StaticWebAssetsLoader.UseStaticWebAssets(builder.Environment, builder.Configuration);
        }

        return builder;
    }

    public static void MapAriadneUi(this WebApplication app)
    {
        app.UseWebSockets();
        app.UseAntiforgery();
        app.MapGet("/ui/{file}", ServeAsset).RequireListener(Listener.Query);
        // Blazor's own script (_framework/blazor.web.js) is a static web asset of the framework.
        app.MapStaticAssets(Path.Combine(AppContext.BaseDirectory, "ariadne.staticwebassets.endpoints.json")).RequireListener(Listener.Query);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode().RequireListener(Listener.Query);
    }

    private static IResult ServeAsset(string file, HttpContext context)
    {
        var stream = typeof(UiEndpoints).Assembly.GetManifestResourceStream(AssetPrefix + file);
        if (stream is null)
        {
            return Results.NotFound();
        }

        context.Response.Headers[HeaderNames.CacheControl] = "no-cache";
        var contentType = s_contentTypes.TryGetContentType(file, out var type) ? type : "application/octet-stream";
        return Results.Stream(stream, contentType, entityTag: new EntityTagHeaderValue(s_version));
    }

    private static readonly string s_version = $"\"{typeof(UiEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0"}\"";
}
