using System.Net.Http.Json;
using System.Text.Json;
using Ariadne.Configuration;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Sampling;
using Ariadne.Sampling.Tail;
using Ariadne.Storage;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Sampling;

public sealed class TailServerFixture : ServerFixture
{
    protected override void Configure(AriadneOptions options)
    {
        var tail = options.Sampling.Tail;
        tail.DecisionWait = TimeSpan.FromMilliseconds(300);
        options.Sampling.BusinessCritical.Add(new BusinessCriticalOperation { Service = "payments", Operation = "Charge" });
        tail.Policies.AddRange(
        [
            new() { Name = "slow", Type = "latency", Latency = new() { Threshold_Ms = 2_000 } },
            new() { Name = "checkout-slow", Type = "latency", Latency = new() { Threshold_Ms = 300, Service = "orders", Operation = "POST /checkout" } },
            new() { Name = "payment", Type = "string_attribute", String_Attribute = new() { Key = "payment.id" } },
            new() { Name = "gold", Type = "string_attribute", String_Attribute = new() { Key = "customer.tier", Values = ["gold"] } },
            new() { Name = "big-order", Type = "numeric_attribute", Numeric_Attribute = new() { Key = "order.value", Min_Value = 1_000 } },
            new() { Name = "rest", Type = "probabilistic", Probabilistic = new() { Sampling_Percentage = 0 } },
        ]);
    }

    public IngestPipeline Pipeline => Server.Services.GetRequiredService<IngestPipeline>();

    public ISpanStore Store => Server.Services.GetRequiredService<ISpanStore>();

    public TailSampler Sampler => Server.Services.GetRequiredService<TailSampler>();

    public async Task IngestAsync(string tenant, params Span[] spans)
    {
        var batch = new SpanBatch();
        batch.Spans.AddRange(spans);
        await Pipeline.IngestAsync(tenant, "test", batch, CancellationToken.None);
    }

    public async Task<int> StoredSpansAsync(string tenant, TraceId id) => (await Store.GetTraceAsync(tenant, id, CancellationToken.None)).Count;
}

public sealed class TailSamplingTests(TailServerFixture fixture) : IClassFixture<TailServerFixture>
{
    private readonly SamplingTestData _data = new(11);

    [Fact]
    public async Task Each_policy_keeps_what_it_matches_and_the_rest_is_dropped()
    {
        const string tenant = "policies";
        var kept = new Dictionary<string, Span[]>
        {
            ["error anywhere"] = Trace(("web", "GET /", 10, StatusCode.Unset, []), ("db", "SELECT", 5, StatusCode.Error, [])),
            ["slow trace"] = Trace(("web", "GET /report", 2_500, StatusCode.Unset, [])),
            ["slow checkout"] = Trace(("gateway", "POST /api", 400, StatusCode.Unset, []), ("orders", "POST /checkout", 350, StatusCode.Unset, [])),
            ["payment id"] = Trace(("web", "POST /pay", 10, StatusCode.Unset, [KeyValue.String("payment.id", "p-1")])),
            ["gold customer"] = Trace(("web", "GET /", 10, StatusCode.Unset, [KeyValue.String("customer.tier", "gold")])),
            ["big order"] = Trace(("web", "POST /order", 10, StatusCode.Unset, [KeyValue.Double("order.value", 1_250.5)])),
            ["business critical"] = Trace(("web", "POST /pay", 10, StatusCode.Unset, []), ("payments", "Charge", 5, StatusCode.Unset, [])),
        };
        var dropped = new Dictionary<string, Span[]>
        {
            ["fast"] = Trace(("web", "GET /", 10, StatusCode.Unset, [])),
            ["fast checkout"] = Trace(("orders", "POST /checkout", 100, StatusCode.Unset, [])),
            ["slow other operation"] = Trace(("orders", "GET /cart", 1_000, StatusCode.Unset, [])),
            ["silver customer"] = Trace(("web", "GET /", 10, StatusCode.Unset, [KeyValue.String("customer.tier", "silver")])),
            ["small order"] = Trace(("web", "POST /order", 10, StatusCode.Unset, [KeyValue.Int("order.value", 999)])),
            ["other payments operation"] = Trace(("payments", "Refund", 5, StatusCode.Unset, [])),
        };
        foreach (var trace in kept.Values.Concat(dropped.Values))
        {
            await fixture.IngestAsync(tenant, trace);
        }

        foreach (var (what, trace) in kept)
        {
            await Poll.UntilAsync(async () => await fixture.StoredSpansAsync(tenant, trace[0].TraceId) == trace.Length, $"the {what} trace to be stored");
        }

        await Poll.UntilAsync(() => fixture.Sampler.BufferedTraces == 0, "every trace to be decided");
        foreach (var (what, trace) in dropped)
        {
            Assert.True(await fixture.StoredSpansAsync(tenant, trace[0].TraceId) == 0, $"the {what} trace was stored");
        }

        var report = await GetReportAsync(tenant);
        var checkout = report.GetProperty("operations").EnumerateArray().Single(o => o.GetProperty("operation").GetString() == "POST /api");
        Assert.Equal(1, checkout.GetProperty("keptByPolicy").GetProperty("checkout-slow").GetInt64());
        var web = report.GetProperty("operations").EnumerateArray().Single(o => o.GetProperty("operation").GetString() == "GET /");
        Assert.Equal(2, web.GetProperty("sampled").GetInt64());
        Assert.Equal(2, web.GetProperty("dropped").GetInt64());
        Assert.Equal(1, web.GetProperty("keptByPolicy").GetProperty("errors").GetInt64());
        Assert.True(report.GetProperty("tail").GetProperty("buffering").GetBoolean());
    }

    [Fact]
    public async Task Late_spans_follow_the_decision_of_their_trace()
    {
        const string tenant = "late";
        var keptRoot = _data.Root("web", "GET /", status: StatusCode.Error);
        var droppedRoot = _data.Root("web", "GET /");
        await fixture.IngestAsync(tenant, keptRoot, droppedRoot);
        await Poll.UntilAsync(async () => await fixture.StoredSpansAsync(tenant, keptRoot.TraceId) == 1, "the error trace to be stored");
        await Poll.UntilAsync(() => fixture.Sampler.BufferedTraces == 0, "both traces to be decided");
        var lateDroppedBefore = await LateSpansAsync("dropped");

        await fixture.IngestAsync(tenant, _data.Span(keptRoot.TraceId, "db", "SELECT", keptRoot.SpanId), _data.Span(droppedRoot.TraceId, "db", "SELECT", droppedRoot.SpanId));

        Assert.Equal(2, await fixture.StoredSpansAsync(tenant, keptRoot.TraceId));
        Assert.Equal(0, await fixture.StoredSpansAsync(tenant, droppedRoot.TraceId));
        Assert.Equal(0, fixture.Sampler.BufferedTraces);
        Assert.Equal(lateDroppedBefore + 1, await LateSpansAsync("dropped"));
    }

    [Fact]
    public async Task Metrics_show_decisions_by_policy_buffered_traces_and_red_counts_of_every_span()
    {
        const string tenant = "metrics";
        var error = _data.Root("metrics-svc", "GET /fail", status: StatusCode.Error);
        var dropped = _data.Root("metrics-svc", "GET /ok");
        await fixture.IngestAsync(tenant, error, dropped);
        await Poll.UntilAsync(async () => await fixture.StoredSpansAsync(tenant, error.TraceId) == 1, "the error trace to be stored");

        var metrics = await fixture.Query.GetStringAsync("/metrics");
        Assert.Contains("ariadne_tail_sampling_traces_total{decision=\"kept\",policy=\"errors\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("ariadne_tail_sampling_policy_decisions_total{policy=\"rest\",decision=\"not_sampled\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("ariadne_tail_sampling_buffered_traces", metrics, StringComparison.Ordinal);
        Assert.Contains("ariadne_tail_sampling_late_spans_total", metrics, StringComparison.Ordinal);
        // RED figures count the dropped trace too: they are computed before tail sampling.
        Assert.Contains("traces_spanmetrics_calls_total{tenant=\"metrics\",service=\"metrics-svc\",span_name=\"GET /ok\",span_kind=\"SPAN_KIND_SERVER\",status_code=\"STATUS_CODE_UNSET\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("traces_spanmetrics_calls_total{tenant=\"metrics\",service=\"metrics-svc\",span_name=\"GET /fail\",span_kind=\"SPAN_KIND_SERVER\",status_code=\"STATUS_CODE_ERROR\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("traces_spanmetrics_latency_bucket{tenant=\"metrics\",service=\"metrics-svc\",span_name=\"GET /ok\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Service_graph_edges_count_traces_the_tail_sampler_drops()
    {
        const string tenant = "graph";
        var root = _data.Root("graph-web", "GET /", durationMs: 10);
        var call = _data.Span(root.TraceId, "graph-web", "GET api", root.SpanId);
        call.Kind = SpanKind.Client;
        var handler = _data.Span(root.TraceId, "graph-api", "GET /items", call.SpanId);
        handler.Kind = SpanKind.Server;
        await fixture.IngestAsync(tenant, root, call);
        await fixture.IngestAsync(tenant, handler);
        await Poll.UntilAsync(() => fixture.Sampler.BufferedTraces == 0, "the trace to be decided");

        Assert.Equal(0, await fixture.StoredSpansAsync(tenant, root.TraceId));
        var metrics = await fixture.Query.GetStringAsync("/metrics");
        Assert.Contains("traces_service_graph_request_total{tenant=\"graph\",client=\"graph-web\",server=\"graph-api\",connection_type=\"\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dependencies_count_every_call_while_tail_sampling_stores_only_the_error_traces()
    {
        const string tenant = "dependencies";
        const int calls = 20, failed = 2;

        // The next whole minute: it begins after the server began counting, so it lies inside the service graph's minutes.
        var minute = DateTimeOffset.FromUnixTimeSeconds(((DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60) + 1) * 60);
        var start = TestSpans.Nanos(minute.AddSeconds(1));
        var gateway = TestSpans.Resource("gateway");
        var orders = TestSpans.Resource("orders");
        for (var i = 0; i < calls; i++)
        {
            var trace = TestSpans.NewTraceId();
            Span Make(Resource resource, ulong id, ulong parent, SpanKind kind, StatusCode status = StatusCode.Unset) => new()
            {
                Resource = resource, TraceId = trace, SpanId = new SpanId(id), ParentSpanId = new SpanId(parent), Name = "POST /orders",
                Kind = kind, StartTimeUnixNano = start, EndTimeUnixNano = start + 5_000_000, StatusCode = status,
            };

            await fixture.IngestAsync(tenant,
                Make(gateway, 1, 0, SpanKind.Server),
                Make(gateway, 2, 1, SpanKind.Client),
                Make(orders, 3, 2, SpanKind.Server, i < failed ? StatusCode.Error : StatusCode.Unset));
        }

        // Storage gets the error traces only (policy "rest" keeps 0 % of the others) ...
        var window = (End: minute.AddMinutes(1), Lookback: TimeSpan.FromMinutes(1));
        await Poll.UntilAsync(async () => (await fixture.Store.GetDependenciesAsync(tenant, window.End, window.Lookback, CancellationToken.None))
            .SingleOrDefault().CallCount == failed, "the error traces to be stored");

        // ... while /api/dependencies and the service map count every call, from the service graph before sampling.
        var query = new TenantQuery(fixture.Query, tenant);
        var links = await query.GetJsonAsync($"/api/dependencies?endTs={window.End.ToUnixTimeMilliseconds()}&lookback={(long)window.Lookback.TotalMilliseconds}");
        var link = Assert.Single(links["data"]!.AsArray())!;
        Assert.Equal(("gateway", "orders", calls), ((string)link["parent"]!, (string)link["child"]!, (int)link["callCount"]!));
        var analysis = fixture.Server.Services.GetRequiredService<Ariadne.Query.PreSamplingFigures>();
        var edge = Assert.Single(await analysis.GetDependenciesAsync(tenant, window.End, window.Lookback, CancellationToken.None));
        Assert.Equal(new DependencyLink("gateway", "orders", calls, failed), edge);
    }

    private Span[] Trace(params (string Service, string Name, long DurationMs, StatusCode Status, KeyValue[] Attributes)[] spans)
    {
        var root = _data.Root(spans[0].Service, spans[0].Name, spans[0].DurationMs, spans[0].Status, spans[0].Attributes);
        return [root, .. spans.Skip(1).Select(s => _data.Span(root.TraceId, s.Service, s.Name, root.SpanId, s.DurationMs, s.Status, s.Attributes))];
    }

    private async Task<JsonElement> GetReportAsync(string tenant)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/ariadne/sampling");
        request.Headers.Add("x-tenant", tenant);
        using var response = await fixture.Query.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<double> LateSpansAsync(string decision)
    {
        var metrics = await fixture.Query.GetStringAsync("/metrics");
        var prefix = $"ariadne_tail_sampling_late_spans_total{{decision=\"{decision}\"}} ";
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }
}

public sealed class BoundedTailServerFixture : ServerFixture
{
    protected override void Configure(AriadneOptions options)
    {
        var tail = options.Sampling.Tail;
        tail.DecisionWait = TimeSpan.FromHours(1);
        tail.MaxTraces = 200;
        tail.MaxBytes = 256 * 1024;
        tail.Policies.Add(new() { Name = "half", Type = "probabilistic", Probabilistic = new() { Sampling_Percentage = 50 } });
    }
}

public sealed class TailSamplingBoundsTests(BoundedTailServerFixture fixture) : IClassFixture<BoundedTailServerFixture>
{
    [Fact]
    public async Task A_flood_is_decided_early_and_the_buffer_never_exceeds_its_bounds()
    {
        var pipeline = fixture.Server.Services.GetRequiredService<IngestPipeline>();
        var sampler = fixture.Server.Services.GetRequiredService<TailSampler>();
        var store = fixture.Server.Services.GetRequiredService<ISpanStore>();
        var data = new SamplingTestData(5);
        var attributes = Enumerable.Range(0, 10).Select(i => KeyValue.String($"attr.{i}", "value")).ToArray();
        var roots = new List<TraceId>();
        for (var request = 0; request < 100; request++)
        {
            var batch = new SpanBatch();
            for (var i = 0; i < 100; i++)
            {
                var root = data.Root("flood", "GET /", attributes: attributes);
                roots.Add(root.TraceId);
                batch.Spans.Add(root);
                batch.Spans.Add(data.Span(root.TraceId, "flood", "child", root.SpanId, attributes: attributes));
            }

            await pipeline.IngestAsync("flood", "test", batch, CancellationToken.None);
            Assert.InRange(sampler.BufferedTraces, 0, 200);
            Assert.InRange(sampler.BufferedBytes, 0, 256 * 1024);
        }

        var stored = 0;
        foreach (var id in roots)
        {
            stored += (await store.GetTraceAsync("flood", id, CancellationToken.None)).Count > 0 ? 1 : 0;
        }

        // Everything but what is still held was decided early: about half kept, whole traces only.
        Assert.InRange(stored, 4_000, 6_000);
        var metrics = await fixture.Query.GetStringAsync("/metrics");
        Assert.Contains("ariadne_tail_sampling_early_decisions_total", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_ingest_reply_does_not_wait_for_the_decision()
    {
        var pipeline = fixture.Server.Services.GetRequiredService<IngestPipeline>();
        var store = fixture.Server.Services.GetRequiredService<ISpanStore>();
        var root = new SamplingTestData(9).Root("ack", "GET /", status: StatusCode.Error);
        var batch = new SpanBatch();
        batch.Spans.Add(root);
        var result = await pipeline.IngestAsync("ack", "test", batch, CancellationToken.None);

        // The decision wait is an hour: the reply came while the trace is still held.
        Assert.Equal(1, result.AcceptedSpans);
        Assert.Empty(await store.GetTraceAsync("ack", root.TraceId, CancellationToken.None));
    }
}

public sealed class PassThroughTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Without_policies_every_span_is_stored_at_once()
    {
        var root = new SamplingTestData(3).Root("plain", "GET /");
        var batch = new SpanBatch();
        batch.Spans.Add(root);
        await fixture.Server.Services.GetRequiredService<IngestPipeline>().IngestAsync("default", "test", batch, CancellationToken.None);
        Assert.Single(await fixture.Server.Services.GetRequiredService<ISpanStore>().GetTraceAsync("default", root.TraceId, CancellationToken.None));
        Assert.False(fixture.Server.Services.GetRequiredService<TailSampler>().Buffering);
    }
}
