using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Tests.Infrastructure;
using static Ariadne.Tests.Infrastructure.TestSpans;

namespace Ariadne.Tests.Operations;

/// <summary>
/// A real Prometheus scrapes the server's /metrics (OpenMetrics, with exemplars) and answers PromQL over what it
/// stored: the span metrics and Tempo-named service graph that Grafana dashboards query, counted before sampling.
/// </summary>
public sealed class PrometheusScrapeTests : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private const string Tenant = "prom";
    private const int Checkouts = 20;
    private const int Failed = 5;
    private readonly ServerFixture _fixture;
    private readonly HashSet<string> _traceIds = new(StringComparer.Ordinal);
    private PrometheusServer _prometheus = null!;

    public PrometheusScrapeTests(ServerFixture fixture) => _fixture = fixture;

    public async Task InitializeAsync()
    {
        _prometheus = await PrometheusServer.StartAsync("ariadne", _fixture.Server.GetUri(Listener.Query));
        var gateway = Resource("gateway");
        var orders = Resource("orders");
        var start = DateTimeOffset.UtcNow.AddSeconds(-30);
        var spans = new List<Span>();
        for (var i = 0; i < Checkouts; i++)
        {
            var trace = NewTraceId();
            _traceIds.Add(trace.ToHex());
            var failed = i < Failed;
            spans.Add(Create(gateway, trace, 1, "POST /checkout", start, TimeSpan.FromMilliseconds(40), SpanKind.Server));
            spans.Add(Create(gateway, trace, 2, "POST /orders", start, TimeSpan.FromMilliseconds(30), SpanKind.Client, parentSpanId: 1));
            spans.Add(Create(orders, trace, 3, "POST /orders", start, TimeSpan.FromMilliseconds(25), SpanKind.Server, parentSpanId: 2,
                status: failed ? StatusCode.Error : StatusCode.Unset));
            spans.Add(Create(orders, trace, 4, "INSERT orders", start, TimeSpan.FromMilliseconds(5), SpanKind.Client, parentSpanId: 3,
                attributes: [KeyValue.String("db.system", "postgresql")]));
        }

        using var otlp = _fixture.CreateClient(Listener.OtlpHttp);
        await OtlpJsonExport.SendAsync(otlp, Tenant, spans);
    }

    [Fact]
    public async Task Prometheus_scrapes_span_metrics_and_the_service_graph_and_answers_promql()
    {
        // Scraped every second: wait until a scrape after the export has landed.
        await Poll.UntilAsync(async () => (await _prometheus.QueryAsync($"sum by (service) (traces_spanmetrics_calls_total{{tenant=\"{Tenant}\"}})", "service"))
            .GetValueOrDefault("orders") == 2 * Checkouts, "Prometheus to hold the span metrics of the export");

        Assert.Equal(1, (await _prometheus.QueryAsync("up{job=\"ariadne\"}", "job"))["ariadne"]);
        var calls = await _prometheus.QueryAsync($"sum by (service) (traces_spanmetrics_calls_total{{tenant=\"{Tenant}\"}})", "service");
        Assert.Equal(2 * Checkouts, calls["gateway"]);
        var errors = await _prometheus.QueryAsync(
            $"sum by (span_name) (traces_spanmetrics_calls_total{{tenant=\"{Tenant}\",service=\"orders\",status_code=\"STATUS_CODE_ERROR\"}})", "span_name");
        Assert.Equal(Failed, errors["POST /orders"]);
        var p99 = await _prometheus.QueryAsync(
            $"histogram_quantile(0.99, sum by (le, span_name) (traces_spanmetrics_latency_bucket{{tenant=\"{Tenant}\",service=\"gateway\"}}))", "span_name");
        Assert.InRange(p99["POST /checkout"], 0.025, 0.05);

        // Grafana's service graph reads these names (Tempo's metrics-generator).
        var requests = await _prometheus.QueryAsync($"traces_service_graph_request_total{{tenant=\"{Tenant}\",client=\"gateway\"}}", "server");
        Assert.Equal(Checkouts, requests["orders"]);
        var failedRequests = await _prometheus.QueryAsync($"traces_service_graph_request_failed_total{{tenant=\"{Tenant}\",client=\"gateway\"}}", "server");
        Assert.Equal(Failed, failedRequests["orders"]);
        var database = await _prometheus.QueryAsync($"traces_service_graph_request_total{{tenant=\"{Tenant}\",client=\"orders\"}}", "server");
        Assert.Equal(Checkouts, database["postgresql"]);

        // Exemplars (OpenMetrics) name traces that were sent, so a Grafana panel links to a stored trace.
        var exemplars = await _prometheus.ExemplarTraceIdsAsync($"traces_spanmetrics_latency_bucket{{tenant=\"{Tenant}\"}}");
        Assert.NotEmpty(exemplars);
        Assert.All(exemplars, id => Assert.Contains(id, _traceIds));
    }

    public async Task DisposeAsync() => await _prometheus.DisposeAsync();
}
