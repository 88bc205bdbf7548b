using System.Net;
using System.Text;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Tenancy;
using Ariadne.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry.Proto.Collector.Trace.V1;
using static Ariadne.Tests.Access.AccessRequests;
using StatusCode = Grpc.Core.StatusCode;

namespace Ariadne.Tests.Access;

/// <summary>Every tenant may send 10 spans/s with a burst of 10, except "unlimited"; the limiter's clock is simulated.</summary>
public sealed class RateLimitServerFixture : ServerFixture
{
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero));

    protected override void Configure(AriadneOptions options)
    {
        options.Limits.IngestRateSpansPerSecond = 10;
        options.Limits.IngestBurstSpans = 10;
        options.Tenancy.Tenants = [new TenantOptions { Id = "unlimited", IngestRateSpansPerSecond = 0 }];
    }

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Time);
}

/// <summary>Per-tenant ingest rate limits on the real server: 429 / RESOURCE_EXHAUSTED with a retry delay, then success after the refill.</summary>
public sealed class RateLimitTests(RateLimitServerFixture fixture) : IClassFixture<RateLimitServerFixture>
{
    [Fact]
    public async Task Over_its_rate_a_tenant_gets_429_with_Retry_After_and_RetryInfo_and_succeeds_after_the_refill()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);

        using var burst = await PostAsync(http, Spans(10), tenant: "http-tenant");
        using var limited = await PostAsync(http, Spans(1), tenant: "http-tenant");
        using var otherTenant = await PostAsync(http, Spans(10), tenant: "http-neighbour");
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        using var refilled = await PostAsync(http, Spans(1, out var traceId), tenant: "http-tenant");

        Assert.Equal(HttpStatusCode.OK, burst.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), limited.Headers.RetryAfter?.Delta);
        var status = await ReadStatusAsync(limited);
        Assert.Equal((int)StatusCode.ResourceExhausted, status.Code);
        Assert.Contains("http-tenant", status.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(1), RetryDelay(status));
        Assert.Equal(HttpStatusCode.OK, otherTenant.StatusCode);
        Assert.Equal(HttpStatusCode.OK, refilled.StatusCode);
        Assert.Single(await StoredAsync(fixture, "http-tenant", traceId));
    }

    [Fact]
    public async Task Over_its_rate_a_grpc_client_gets_RESOURCE_EXHAUSTED_with_a_RetryInfo_detail()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var client = new TraceService.TraceServiceClient(channel);

        await client.ExportAsync(Spans(10), Metadata(tenant: "grpc-tenant"));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(Spans(1), Metadata(tenant: "grpc-tenant")));
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        await client.ExportAsync(Spans(1), Metadata(tenant: "grpc-tenant"));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), RetryDelay(error));
    }

    [Fact]
    public async Task A_batch_larger_than_the_burst_is_admitted_once_and_the_wait_it_leaves_is_in_Retry_After()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);

        using var large = await PostAsync(http, Spans(25), tenant: "large-batches");
        using var limited = await PostAsync(http, Spans(1), tenant: "large-batches");
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        using var stillLimited = await PostAsync(http, Spans(1), tenant: "large-batches");
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        using var refilled = await PostAsync(http, Spans(1), tenant: "large-batches");

        Assert.Equal(HttpStatusCode.OK, large.StatusCode);
        // 25 spans from a bucket of 10 leave it one burst in debt: two seconds at 10 spans/s.
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), limited.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.TooManyRequests, stillLimited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, refilled.StatusCode);
    }

    [Fact]
    public async Task Otlp_json_clients_get_the_RetryInfo_detail_in_json()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using (await PostAsync(http, Spans(10), tenant: "json-tenant"))
        {
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("x-tenant", "json-tenant");
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        // The generated JSON parser checks the proto3 JSON shape of the Any detail (@type, duration as "1s").
        var parser = new Google.Protobuf.JsonParser(Google.Protobuf.JsonParser.Settings.Default.WithTypeRegistry(
            Google.Protobuf.Reflection.TypeRegistry.FromMessages(Google.Rpc.RetryInfo.Descriptor)));
        var status = parser.Parse<Google.Rpc.Status>(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)StatusCode.ResourceExhausted, status.Code);
        Assert.Equal(TimeSpan.FromSeconds(1), RetryDelay(status));
    }

    [Fact]
    public async Task A_tenant_configured_without_a_limit_is_not_limited_and_refusals_are_counted()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using var query = fixture.CreateClient(Listener.Query);

        for (var i = 0; i < 3; i++)
        {
            using var response = await PostAsync(http, Spans(50), tenant: "unlimited");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (await PostAsync(http, Spans(10), tenant: "counted"))
        using (var limited = await PostAsync(http, Spans(1), tenant: "counted"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        }

        var metrics = await query.GetStringAsync("/metrics");
        Assert.Contains("ariadne_ingest_requests_failed_total{protocol=\"otlp_http\",reason=\"rate_limited\"}", metrics, StringComparison.Ordinal);
    }
}
