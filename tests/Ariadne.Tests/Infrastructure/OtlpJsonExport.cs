using System.Text.Json;
using Ariadne.Model;
using Ariadne.Query;

namespace Ariadne.Tests.Infrastructure;

/// <summary>Sends spans as a user's SDK would: OTLP/JSON to <c>/v1/traces</c> on the OTLP/HTTP listener.</summary>
public static class OtlpJsonExport
{
    public static async Task SendAsync(HttpClient otlpHttp, string tenant, IEnumerable<Span> spans)
    {
        using var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            OtlpJsonWriter.WriteTracesData(writer, spans);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = new ByteArrayContent(body.ToArray()) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("x-tenant", tenant);
        using var response = await otlpHttp.SendAsync(request);
        var answer = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode && !answer.Contains("rejected", StringComparison.OrdinalIgnoreCase), $"OTLP/HTTP refused the test spans: {(int)response.StatusCode} {answer}");
    }
}
