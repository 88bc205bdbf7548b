using System.Net;
using Ariadne.Access;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Tenancy;
using Ariadne.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;
using static Ariadne.Tests.Access.AccessRequests;
using StatusCode = Grpc.Core.StatusCode;

namespace Ariadne.Tests.Access;

public sealed class KnownTenantServerFixture : ServerFixture
{
    public const string Token = "known-0123456789abcdef";

    protected override void Configure(AriadneOptions options)
    {
        options.Tenancy.RequireKnownTenant = true;
        options.Tenancy.Tenants =
        [
            new TenantOptions { Id = "acme" },
            new TenantOptions { Id = "small", MaxRequestBytes = 1024 },
        ];
        options.Auth.Tokens = [new TokenOptions { Token = Token, Scopes = ["ingest", "query"] }];
        options.Auth.AllowAnonymousMetrics = true;
    }
}

/// <summary>Tenancy:RequireKnownTenant and per-tenant request sizes on the real server.</summary>
public sealed class KnownTenantTests(KnownTenantServerFixture fixture) : IClassFixture<KnownTenantServerFixture>
{
    private const string Token = KnownTenantServerFixture.Token;

    [Fact]
    public async Task An_unknown_tenant_is_refused_on_ingest_with_401_saying_how_to_add_it_and_a_known_one_is_stored()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);

        using var unknown = await PostAsync(http, Spans(1), Token, tenant: "globex");
        using var unnamed = await PostAsync(http, Spans(1), Token);
        using var known = await PostAsync(http, Spans(1, out var traceId), Token, tenant: "acme");

        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        var status = await ReadStatusAsync(unknown);
        Assert.Equal((int)StatusCode.Unauthenticated, status.Code);
        Assert.Contains("tenant 'globex' is not known", status.Message, StringComparison.Ordinal);
        Assert.Contains("Tenancy:Tenants", status.Message, StringComparison.Ordinal);
        // No header is the default tenant, which is not listed either.
        Assert.Equal(HttpStatusCode.Unauthorized, unnamed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.Single(await StoredAsync(fixture, "acme", traceId));
    }

    [Fact]
    public async Task An_unknown_tenant_gets_Unauthenticated_over_grpc()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var client = new TraceService.TraceServiceClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(Spans(1), Metadata(Token, "globex")));
        await client.ExportAsync(Spans(1), Metadata(Token, "acme"));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Contains("Tenancy:Tenants", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_tenant_is_refused_on_query_while_probes_and_anonymous_metrics_answer()
    {
        using var query = fixture.CreateClient(Listener.Query);
        using var unknownRequest = new HttpRequestMessage(HttpMethod.Get, "/api/services");
        Authorize(unknownRequest, Token, "globex");
        using var knownRequest = new HttpRequestMessage(HttpMethod.Get, "/api/services");
        Authorize(knownRequest, Token, "acme");

        using var unknown = await query.SendAsync(unknownRequest);
        using var known = await query.SendAsync(knownRequest);
        using var metrics = await query.GetAsync("/metrics");
        using var ready = await query.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Contains("Tenancy:Tenants", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task A_tenant_with_its_own_request_size_gets_413_over_it_on_http_and_ResourceExhausted_without_retry_on_grpc()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var client = new TraceService.TraceServiceClient(channel);
        var big = Spans(30);
        Assert.True(big.CalculateSize() > 1024);

        using var tooLarge = await PostAsync(http, big, Token, "small");
        using var fits = await PostAsync(http, Spans(1), Token, "small");
        using var otherTenant = await PostAsync(http, big, Token, "acme");
        var grpcError = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(big, Metadata(Token, "small")));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("Tenancy:Tenants:N:MaxRequestBytes", (await ReadStatusAsync(tooLarge)).Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        Assert.Equal(HttpStatusCode.OK, otherTenant.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, grpcError.StatusCode);
        // Too large is not worth retrying: no RetryInfo, so collectors drop the batch instead of resending it.
        Assert.Null(RetryDelay(grpcError));
    }
}
