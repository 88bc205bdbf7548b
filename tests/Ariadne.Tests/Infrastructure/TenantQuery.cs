using System.Net;
using System.Text.Json.Nodes;

namespace Ariadne.Tests.Infrastructure;

/// <summary>GET requests to the query listener as one tenant (the x-tenant header), for the query API tests.</summary>
public sealed class TenantQuery(HttpClient query, string tenant)
{
    public async Task<(HttpStatusCode Status, string Body, string? ContentType)> GetAsync(string url, string? asTenant = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("x-tenant", asTenant ?? tenant);
        using var response = await query.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.ToString());
    }

    /// <summary>The JSON body of a request that must answer 200 (the failure names the URL, status and body).</summary>
    public async Task<JsonNode> GetJsonAsync(string url, string? asTenant = null)
    {
        var (status, body, _) = await GetAsync(url, asTenant);
        Assert.True(status == HttpStatusCode.OK, $"{url} answered {(int)status}: {body}");
        return JsonNode.Parse(body)!;
    }
}
