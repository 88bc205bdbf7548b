using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Tests.Infrastructure;
using static Ariadne.Tests.Infrastructure.TestSpans;

namespace Ariadne.Tests.Query.Tempo;

/// <summary>The real server with Tempo's listener on a free port (its 0 turns it off), queried as Grafana's Tempo data source does.</summary>
public sealed class TempoServerFixture : ServerFixture
{
    private HttpClient? _tempo;
    private HttpClient? _otlpHttp;

    public HttpClient Tempo => _tempo ??= CreateClient(Listener.Tempo);

    public HttpClient OtlpHttp => _otlpHttp ??= CreateClient(Listener.OtlpHttp);

    protected override void Configure(AriadneOptions options) => options.Ports.Tempo = FreePort.Next();

    /// <summary>A GET as Grafana's data source sends it: the tenant in X-Scope-OrgID, an Accept header when it sets one.</summary>
    public async Task<(HttpStatusCode Status, byte[] Body, string? ContentType)> GetAsync(HttpClient client, string url, string tenant, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("X-Scope-OrgID", tenant);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(), response.Content.Headers.ContentType?.ToString());
    }

    public async Task<JsonNode> GetJsonAsync(string url, string tenant, HttpClient? client = null)
    {
        var (status, body, contentType) = await GetAsync(client ?? Tempo, url, tenant);
        var text = System.Text.Encoding.UTF8.GetString(body);
        Assert.True(status == HttpStatusCode.OK, $"{url} answered {(int)status}: {text}");
        Assert.Equal("application/json", contentType);
        return JsonNode.Parse(text)!;
    }

    /// <summary>
    /// Sends two traces over OTLP/HTTP for a fresh tenant and waits until both can be read: a 300 ms checkout through
    /// frontend and payments (a failed client call with a retry event), and a 2 ms cart read.
    /// </summary>
    public async Task<SeededTraces> SeedAsync()
    {
        var tenant = "tempo-" + Guid.NewGuid().ToString("N")[..12];
        var start = DateTimeOffset.UtcNow.AddMinutes(-2);
        var frontend = Resource("frontend", KeyValue.String("deployment.environment", "prod"));
        var payments = Resource("payments", KeyValue.String("deployment.environment", "prod"));
        var scope = new InstrumentationScope { Name = "checkout-lib", Version = "1.2.0" };
        var checkout = NewTraceId();
        var cart = NewTraceId();
        Span[] spans =
        [
            Create(frontend, checkout, 0x0a, "POST /checkout", start, TimeSpan.FromMilliseconds(300), SpanKind.Server, scope: scope,
                attributes: [KeyValue.String("http.request.method", "POST"), new KeyValue("http.response.status_code", AnyValue.FromInt(200))]),
            Create(frontend, checkout, 0x0b, "charge", start.AddMilliseconds(10), TimeSpan.FromMilliseconds(200), SpanKind.Client, parentSpanId: 0x0a,
                status: StatusCode.Error, statusMessage: "card declined", scope: scope,
                attributes: [new KeyValue("payment.amount", AnyValue.FromDouble(42.5))]),
            Create(payments, checkout, 0x0c, "POST /charge", start.AddMilliseconds(20), TimeSpan.FromMilliseconds(150), SpanKind.Server, parentSpanId: 0x0b,
                status: StatusCode.Error, events: [new SpanEvent(Nanos(start.AddMilliseconds(30)), "retry", [new KeyValue("attempt", AnyValue.FromInt(2))])]),
            Create(frontend, cart, 0x1a, "GET /cart", start.AddSeconds(1), TimeSpan.FromMilliseconds(2), SpanKind.Server, scope: scope,
                attributes: [KeyValue.String("http.request.method", "GET"), new KeyValue("http.response.status_code", AnyValue.FromInt(200))]),
        ];
        await OtlpJsonExport.SendAsync(OtlpHttp, tenant, spans);
        foreach (var id in new[] { checkout, cart })
        {
            await Poll.UntilAsync(async () => (await GetAsync(Tempo, $"/api/v2/traces/{id.ToHex()}", tenant)).Status == HttpStatusCode.OK,
                $"trace {id.ToHex()} to be readable", interval: TimeSpan.FromMilliseconds(50));
        }

        return new SeededTraces(tenant, checkout, cart, start);
    }
}

public sealed record SeededTraces(string Tenant, TraceId Checkout, TraceId Cart, DateTimeOffset Start)
{
    /// <summary>Grafana's search window: unix seconds around the data.</summary>
    public string Window => $"start={Seconds(Start.AddMinutes(-10))}&end={Seconds(Start.AddMinutes(10))}";

    public static string Seconds(DateTimeOffset time) => time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
}
