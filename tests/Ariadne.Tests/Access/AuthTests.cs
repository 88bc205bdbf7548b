using System.Diagnostics;
using System.Net;
using Ariadne.Access;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using static Ariadne.Tests.Access.AccessRequests;
using StatusCode = Grpc.Core.StatusCode;

namespace Ariadne.Tests.Access;

public sealed class AuthServerFixture : ServerFixture
{
    public const string IngestToken = "ingest-0123456789abcdef";
    public const string QueryToken = "query-0123456789abcdef";
    public const string AcmeToken = "acme-0123456789abcdef";

    protected override void Configure(AriadneOptions options)
    {
        options.Auth.Tokens =
        [
            new TokenOptions { Token = IngestToken, Scopes = ["ingest"] },
            new TokenOptions { Token = QueryToken, Scopes = ["query"] },
            new TokenOptions { Token = AcmeToken, Tenant = "acme", Scopes = ["ingest", "query"] },
        ];
    }
}

/// <summary>Bearer tokens on the ingest and query listeners of the real server, with real OTLP clients.</summary>
public sealed class AuthTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    [Theory]
    [InlineData(Ariadne.LoadGen.LoadGenProtocol.Grpc)]
    [InlineData(Ariadne.LoadGen.LoadGenProtocol.Http)]
    public async Task The_load_generator_sends_its_token_and_without_one_every_request_is_refused(Ariadne.LoadGen.LoadGenProtocol protocol)
    {
        Task<Ariadne.LoadGen.LoadGenReport> RunAsync(string? token) => new Ariadne.LoadGen.LoadGenerator(new Ariadne.LoadGen.LoadGenOptions
        {
            Target = fixture.Server.GetUri(protocol == Ariadne.LoadGen.LoadGenProtocol.Grpc ? Listener.OtlpGrpc : Listener.OtlpHttp),
            Protocol = protocol,
            Connections = 1,
            SpansPerRequest = 50,
            TotalSpans = 200,
            Payloads = 2,
            Tenant = "acme",
            Token = token,
        }).RunAsync(null, CancellationToken.None);

        var accepted = await RunAsync(AuthServerFixture.AcmeToken);
        Assert.Equal(0, accepted.FailedRequests);
        Assert.True(accepted.SpansAccepted >= 200);

        var refused = await RunAsync(null);
        Assert.Equal(0, refused.SpansAccepted);
        Assert.True(refused.FailedRequests > 0);
    }

    [Fact]
    public async Task Otlp_http_without_a_token_gets_401_with_a_bearer_challenge_and_says_how_to_authenticate()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);

        using var response = await PostAsync(http, Spans(1));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        var status = await ReadStatusAsync(response);
        Assert.Equal((int)StatusCode.Unauthenticated, status.Code);
        Assert.Contains("Authorization: Bearer", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Otlp_http_with_a_wrong_token_gets_401_invalid_token_and_the_right_token_is_accepted()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);

        using var wrong = await PostAsync(http, Spans(1), token: "ingest-0123456789abcdeX");
        using var right = await PostAsync(http, Spans(1, out var traceId), token: AuthServerFixture.IngestToken);

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("error=\"invalid_token\"", Assert.Single(wrong.Headers.WwwAuthenticate).Parameter);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Single(await StoredAsync(fixture, "default", traceId));
    }

    [Fact]
    public async Task A_token_without_the_ingest_scope_may_not_ingest_and_one_without_the_query_scope_may_not_query()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using var query = fixture.CreateClient(Listener.Query);

        using var ingest = await PostAsync(http, Spans(1), token: AuthServerFixture.QueryToken);
        using var services = new HttpRequestMessage(HttpMethod.Get, "/api/services");
        Authorize(services, AuthServerFixture.IngestToken, tenant: null);
        using var read = await query.SendAsync(services);

        Assert.Equal(HttpStatusCode.Forbidden, ingest.StatusCode);
        Assert.Equal((int)StatusCode.PermissionDenied, (await ReadStatusAsync(ingest)).Code);
        Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        Assert.Contains("query scope", await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Otlp_grpc_reads_the_token_from_the_authorization_metadata()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Server.GetUri(Listener.OtlpGrpc));
        var client = new TraceService.TraceServiceClient(channel);

        var missing = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(Spans(1)));
        var wrong = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(Spans(1), Metadata(token: "nope-0123456789abcdef")));
        var scope = await Assert.ThrowsAsync<RpcException>(async () => await client.ExportAsync(Spans(1), Metadata(token: AuthServerFixture.QueryToken)));
        await client.ExportAsync(Spans(1, out var traceId), Metadata(token: AuthServerFixture.IngestToken));

        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Contains("Authorization: Bearer", missing.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, scope.StatusCode);
        Assert.Single(await StoredAsync(fixture, "default", traceId));
    }

    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task The_OpenTelemetry_SDK_exports_with_a_bearer_header_and_its_bound_tenant(OtlpExportProtocol protocol)
    {
        using var source = new ActivitySource($"Ariadne.Tests.Auth.{protocol}");
        ActivityTraceId traceId;
        using (var tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("authenticated"))
            .AddSource(source.Name)
            .AddOtlpExporter(otlp =>
            {
                otlp.Protocol = protocol;
                otlp.Endpoint = protocol == OtlpExportProtocol.Grpc
                    ? fixture.Server.GetUri(Listener.OtlpGrpc)
                    : new Uri(fixture.Server.GetUri(Listener.OtlpHttp), "/v1/traces");
                otlp.ExportProcessorType = ExportProcessorType.Simple;
                // As OTEL_EXPORTER_OTLP_HEADERS would set it.
                otlp.Headers = $"authorization=Bearer {AuthServerFixture.AcmeToken}";
            })
            .Build())
        {
            using (var root = source.StartActivity("GET /orders", ActivityKind.Server)!)
            {
                traceId = root.TraceId;
            }

            Assert.True(tracing.ForceFlush());
        }

        Assert.True(TraceId.TryParseHex(traceId.ToHexString(), out var id));
        Assert.Equal("GET /orders", Assert.Single(await StoredAsync(fixture, "acme", id)).Name);
        Assert.Empty(await StoredAsync(fixture, "default", id));
    }

    [Fact]
    public async Task A_token_bound_to_a_tenant_acts_as_that_tenant_and_may_not_name_another()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using var query = fixture.CreateClient(Listener.Query);

        using var stored = await PostAsync(http, Spans(2, out var traceId), token: AuthServerFixture.AcmeToken);
        using var same = await PostAsync(http, Spans(1), token: AuthServerFixture.AcmeToken, tenant: "acme");
        using var other = await PostAsync(http, Spans(1), token: AuthServerFixture.AcmeToken, tenant: "globex");
        using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/traces/{traceId.ToHex()}");
        Authorize(read, AuthServerFixture.AcmeToken, tenant: null);
        using var found = await query.SendAsync(read);
        using var readOther = new HttpRequestMessage(HttpMethod.Get, "/api/services");
        Authorize(readOther, AuthServerFixture.AcmeToken, tenant: "globex");
        using var refused = await query.SendAsync(readOther);

        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(2, (await StoredAsync(fixture, "acme", traceId)).Count);
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        Assert.Contains("tenant 'acme'", (await ReadStatusAsync(other)).Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Contains(traceId.ToHex(), await found.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task The_zipkin_listener_without_a_token_answers_401_in_text_as_zipkin_does()
    {
        using var zipkin = fixture.CreateClient(Listener.Zipkin);

        using var response = await zipkin.PostAsync("/api/v2/spans", new StringContent("[]", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Authorization: Bearer", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_query_listener_needs_a_query_token_except_for_health_probes()
    {
        using var query = fixture.CreateClient(Listener.Query);

        using var anonymous = await query.GetAsync("/api/services");
        using var anonymousUi = await query.GetAsync("/search");
        using var anonymousMetrics = await query.GetAsync("/metrics");
        using var live = await query.GetAsync("/health/live");
        using var ready = await query.GetAsync("/health/ready");
        using var services = new HttpRequestMessage(HttpMethod.Get, "/api/services");
        Authorize(services, AuthServerFixture.QueryToken, tenant: null);
        using var authorized = await query.SendAsync(services);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", Assert.Single(anonymous.Headers.WwwAuthenticate).Scheme);
        Assert.Contains("\"errors\":[{\"code\":401", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousUi.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousMetrics.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
    }

    [Fact]
    public async Task Refused_ingest_requests_are_counted_by_reason_and_tokens_never_reach_metrics()
    {
        using var http = fixture.CreateClient(Listener.OtlpHttp);
        using var query = fixture.CreateClient(Listener.Query);
        using (await PostAsync(http, Spans(1), token: "secret-never-logged-0123"))
        {
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        Authorize(request, AuthServerFixture.QueryToken, tenant: null);
        using var response = await query.SendAsync(request);
        var metrics = await response.Content.ReadAsStringAsync();

        Assert.Contains("ariadne_ingest_requests_failed_total{protocol=\"otlp_http\",reason=\"unauthenticated\"}", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-never-logged", metrics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/search", "x-tenant", "../A")]
    [InlineData("/trace/0123456789abcdef", "X-Scope-OrgID", "A|B")]
    [InlineData("/alerts", "x-tenant", "A B")]
    public async Task A_ui_page_answers_a_malformed_tenant_header_with_400_as_the_api_does(string page, string header, string value)
    {
        using var query = fixture.CreateClient(Listener.Query);

        async Task<HttpResponseMessage> GetAsync(string path, string? tenant)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            Authorize(request, AuthServerFixture.QueryToken, tenant: null);
            if (tenant is not null)
            {
                request.Headers.TryAddWithoutValidation(header, tenant);
            }

            return await query.SendAsync(request);
        }

        using var ui = await GetAsync(page, value);
        using var api = await GetAsync("/api/services", value);
        using var wellFormed = await GetAsync(page, "acme");

        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, ui.StatusCode);
        Assert.Contains("header must be 1 to 64 letters", await ui.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, wellFormed.StatusCode);
    }

    [Fact]
    public async Task Metrics_spans_every_tenant_so_a_tenant_bound_token_is_refused_and_an_unbound_one_reads_it()
    {
        using var query = fixture.CreateClient(Listener.Query);

        async Task<HttpResponseMessage> GetMetricsAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            Authorize(request, token, tenant: null);
            return await query.SendAsync(request);
        }

        using var bound = await GetMetricsAsync(AuthServerFixture.AcmeToken);
        using var unbound = await GetMetricsAsync(AuthServerFixture.QueryToken);

        Assert.Equal(HttpStatusCode.Forbidden, bound.StatusCode);
        Assert.Contains("Auth:Tokens:N:Tenant", await bound.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, unbound.StatusCode);
        Assert.Contains("ariadne_", await unbound.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
