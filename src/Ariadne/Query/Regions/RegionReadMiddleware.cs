namespace Ariadne.Query.Regions;

/// <summary>Opens a <see cref="RegionReadScope"/> for each request; local-only when another region sent it (<see cref="RegionFederation.HopHeader"/>).</summary>
public sealed class RegionReadMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        using var scope = RegionReadScope.Begin(localOnly: context.Request.Headers.ContainsKey(RegionFederation.HopHeader));
        await next(context);
    }
}
