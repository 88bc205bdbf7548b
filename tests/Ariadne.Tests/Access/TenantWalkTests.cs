using System.Net;
using Ariadne.Access;
using Ariadne.Alerts;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Receivers.Otlp;
using Google.Protobuf;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using static Ariadne.Tests.Access.AccessRequests;
using PTrace = OpenTelemetry.Proto.Trace.V1;

namespace Ariadne.Tests.Access;

/// <summary>Tenants A and B with tokens bound to them, an operator's unbound query token, and an alert rule per tenant.</summary>
public sealed class TenantWalkFixture : ServerFixture
{
    public const string OperatorToken = "operator-0123456789abcdef";

    public static readonly IReadOnlyList<WalkTenant> Tenants =
    [
        new("A", "tenant-a-0123456789abcdef", "walka-storefront", "walka-inventory", "walka-storefront-slow"),
        new("B", "tenant-b-0123456789abcdef", "walkb-ledger", "walkb-payments", "walkb-ledger-slow"),
    ];

    protected override void Configure(AriadneOptions options)
    {
        options.Auth.Tokens =
        [
            .. Tenants.Select(t => new TokenOptions { Token = t.Token, Tenant = t.Id, Scopes = ["ingest", "query"] }),
            new TokenOptions { Token = OperatorToken, Scopes = ["query"] },
        ];
        // Adaptive sampling, recalculated every second, so /api/sampling and the Sampling page hold each tenant's operations.
        options.Sampling.Mode = Ariadne.Sampling.SamplingOptions.AdaptiveMode;
        options.Sampling.Adaptive.CalculationInterval = TimeSpan.FromSeconds(1);
        options.Alerts.Rules =
        [
            .. Tenants.Select(t => new AlertRuleOptions { Name = t.RuleName, Tenant = t.Id, Service = t.Frontend, Signal = AlertSignal.Latency, Above = 60_000 }),
        ];
    }
}

/// <summary>A tenant of the walk: its token, its two services (a frontend calling a backend), its alert rule.</summary>
public sealed record WalkTenant(string Id, string Token, string Frontend, string Backend, string RuleName)
{
    /// <summary>The root operation, named after the frontend so that showing it to the other tenant is a leak the walk sees.</summary>
    public string RootOperation => $"GET /{Frontend}";

    public IEnumerable<string> Secrets(TraceId traceId) => [Frontend, Backend, RuleName, traceId.ToHex()];
}

/// <summary>
/// Every GET route of the app's endpoint table, API and UI pages alike, read as tenant A and as tenant B with their
/// bound tokens, must never show the other tenant's services, trace ids or alert rules. The routes come from the
/// endpoint table, so a route added later is walked without touching this test.
/// </summary>
public sealed class TenantWalkTests(TenantWalkFixture fixture) : IClassFixture<TenantWalkFixture>
{
    [Fact]
    public async Task No_get_route_shows_a_tenant_another_tenants_services_trace_ids_or_alert_rules()
    {
        using var ingest = fixture.CreateClient(Listener.OtlpHttp);
        using var query = fixture.CreateClient(Listener.Query);
        var traces = new Dictionary<string, TraceId>();
        foreach (var tenant in TenantWalkFixture.Tenants)
        {
            using var sent = await PostAsync(ingest, Trace(tenant, out var traceId), token: tenant.Token);
            Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
            traces[tenant.Id] = traceId;
            await Poll.UntilAsync(
                async () => (await GetAsync(query, $"/api/traces?service={tenant.Frontend}&lookback=1h", tenant.Token)).Body.Contains(traceId.ToHex(), StringComparison.Ordinal),
                $"tenant {tenant.Id}'s trace to be searchable");
        }

        // Adaptive sampling keeps each tenant's operations apart (issue 13): once calculated, a tenant's strategy names
        // its root operation, on the query port by its token and on the open sampling port by the tenant header.
        using var sampling = fixture.CreateClient(Listener.Sampling);
        foreach (var tenant in TenantWalkFixture.Tenants)
        {
            await Poll.UntilAsync(
                async () => (await GetAsync(query, $"/api/sampling?service={tenant.Frontend}", tenant.Token)).Body.Contains(tenant.RootOperation, StringComparison.Ordinal),
                $"tenant {tenant.Id}'s adaptive strategy");
            using var byHeader = new HttpRequestMessage(HttpMethod.Get, $"/sampling?service={tenant.Frontend}");
            byHeader.Headers.Add("x-tenant", tenant.Id);
            using var strategy = await sampling.SendAsync(byHeader);
            Assert.Contains(tenant.RootOperation, await strategy.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.DoesNotContain(tenant.RootOperation, await sampling.GetStringAsync($"/sampling?service={tenant.Frontend}"), StringComparison.Ordinal);
            foreach (var other in TenantWalkFixture.Tenants.Where(t => t != tenant))
            {
                Assert.DoesNotContain(other.RootOperation, (await GetAsync(query, $"/api/sampling?service={other.Frontend}", tenant.Token)).Body, StringComparison.Ordinal);
            }
        }

        var routes = GetRoutes();
        Assert.Contains("/api/traces/{traceID}", routes.Select(r => r.Pattern));
        Assert.Contains("/trace/{Id}", routes.Select(r => r.Pattern));
        Assert.Contains("/alerts", routes.Select(r => r.Pattern));

        var leaks = new List<string>();
        foreach (var tenant in TenantWalkFixture.Tenants)
        {
            var own = traces[tenant.Id];
            var others = TenantWalkFixture.Tenants.Where(t => t != tenant).SelectMany(t => t.Secrets(traces[t.Id])).ToArray();
            var ownSeen = new List<string>();
            foreach (var route in routes)
            {
                var path = route.Fill(tenant, own);
                var (status, body) = await GetAsync(query, path, tenant.Token);
                leaks.AddRange(others.Where(secret => body.Contains(secret, StringComparison.OrdinalIgnoreCase))
                    .Select(secret => $"{tenant.Id} reads '{secret}' on GET {path} ({(int)status})"));
                if (body.Contains(own.ToHex(), StringComparison.OrdinalIgnoreCase))
                {
                    ownSeen.Add(route.Pattern);
                }
            }

            // The walk reaches real data: the tenant's own trace is on its trace page, in the API and in the UI.
            Assert.Contains("/api/traces/{traceID}", ownSeen);
            Assert.Contains("/trace/{Id}", ownSeen);
            Assert.Contains(tenant.RuleName, (await GetAsync(query, "/api/ariadne/alerts", tenant.Token)).Body, StringComparison.Ordinal);
            Assert.Contains(tenant.RuleName, (await GetAsync(query, "/alerts", tenant.Token)).Body, StringComparison.Ordinal);
        }

        Assert.Empty(leaks);
        // An operator's unbound token sees every tenant's rules, and /metrics; tenant tokens do not get /metrics.
        var operatorAlerts = (await GetAsync(query, "/api/ariadne/alerts", TenantWalkFixture.OperatorToken)).Body;
        Assert.All(TenantWalkFixture.Tenants, t => Assert.Contains(t.RuleName, operatorAlerts, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(query, "/metrics", TenantWalkFixture.OperatorToken)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(query, "/metrics", TenantWalkFixture.Tenants[0].Token)).Status);
    }

    /// <summary>The GET routes of the endpoint table (UI pages, API, operations), each once.</summary>
    private List<WalkRoute> GetRoutes() => fixture.Server.Services.GetRequiredService<EndpointDataSource>().Endpoints
        .OfType<RouteEndpoint>()
        .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>() is not { } methods || methods.HttpMethods.Contains(HttpMethods.Get))
        .Select(e => new WalkRoute(e.RoutePattern))
        .DistinctBy(r => r.Pattern)
        .ToList();

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(HttpClient query, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        Authorize(request, token, tenant: null);
        using var response = await query.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A trace of the tenant's frontend calling its backend, started a second ago.</summary>
    private static OpenTelemetry.Proto.Collector.Trace.V1.ExportTraceServiceRequest Trace(WalkTenant tenant, out TraceId traceId)
    {
        var traceBytes = Guid.NewGuid().ToByteArray();
        traceId = TraceId.FromBytes(traceBytes);
        var start = (ulong)TestSpans.Nanos(DateTimeOffset.UtcNow.AddSeconds(-1));
        PTrace.Span Span(ulong id, ulong parent, string name, PTrace.Span.Types.SpanKind kind) => new()
        {
            TraceId = ByteString.CopyFrom(traceBytes),
            SpanId = ByteString.CopyFrom(BitConverter.GetBytes(id)),
            ParentSpanId = parent == 0 ? ByteString.Empty : ByteString.CopyFrom(BitConverter.GetBytes(parent)),
            Name = name,
            Kind = kind,
            StartTimeUnixNano = start + id * 1_000_000,
            EndTimeUnixNano = start + 100_000_000 - id * 1_000_000,
        };

        return OtlpProtobufDecoderTests.Request(
            OtlpProtobufDecoderTests.ResourceSpans([OtlpProtobufDecoderTests.Attribute("service.name", tenant.Frontend)], Span(1, 0, tenant.RootOperation, PTrace.Span.Types.SpanKind.Server), Span(2, 1, "GET /stock", PTrace.Span.Types.SpanKind.Client)),
            OtlpProtobufDecoderTests.ResourceSpans([OtlpProtobufDecoderTests.Attribute("service.name", tenant.Backend)], Span(3, 2, "GET /stock", PTrace.Span.Types.SpanKind.Server)));
    }

    /// <summary>A route of the endpoint table, its parameters filled with the walking tenant's own trace or service.</summary>
    private sealed record WalkRoute(RoutePattern Route)
    {
        public string Pattern { get; } = "/" + string.Join('/', Route.PathSegments.Select(s => string.Concat(s.Parts.Select(Text))));

        public string Fill(WalkTenant tenant, TraceId traceId)
        {
            var path = "/" + string.Join('/', Route.PathSegments.Select(s => string.Concat(s.Parts.Select(p => p is RoutePatternParameterPart parameter
                ? Uri.EscapeDataString(Value(parameter.Name, tenant, traceId))
                : Text(p)))));
            // Query parameters the API reads, with the tenant's own values, so a handler that ignores the tenant shows it.
            var trace = traceId.ToHex();
            return $"{path}?service={Uri.EscapeDataString(tenant.Frontend)}&lookback=1h&traceId={trace}&a={trace}&b={trace}&q={Uri.EscapeDataString($"{{ service = \"{tenant.Frontend}\" }}")}";
        }

        private static string Value(string name, WalkTenant tenant, TraceId traceId) =>
            name.Contains("trace", StringComparison.OrdinalIgnoreCase) || name.Equals("id", StringComparison.OrdinalIgnoreCase) ? traceId.ToHex()
            : name.Contains("service", StringComparison.OrdinalIgnoreCase) ? tenant.Frontend
            : "walk";

        private static string Text(RoutePatternPart part) => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter => $"{{{(parameter.IsCatchAll ? "*" : "")}{parameter.Name}}}",
            _ => string.Empty,
        };
    }
}
