using System.Net;
using System.Text.Json;
using Ariadne.Analysis;
using Ariadne.Model;

namespace Ariadne.Tests.Ui;

public sealed class AnalysisApiTests(UiFixture fixture) : IClassFixture<UiFixture>
{
    private HttpClient Query => fixture.Server.Query;

    [Fact]
    public async Task Critical_path_of_the_slow_checkout_names_every_span_but_the_overlapped_one()
    {
        using var json = JsonDocument.Parse(await Query.GetStringAsync($"/api/ariadne/traces/{CheckoutTraces.Slow.ToHex()}/critical-path"));
        var spanIds = json.RootElement.GetProperty("spanIds").EnumerateArray().Select(e => e.GetString()!).ToHashSet();
        Assert.Equal(CheckoutTraces.SlowCriticalPath.Select(id => new SpanId(id).ToHex()).ToHashSet(), spanIds);

        // The sections tile the root's second exactly: nothing on the path overlaps, nothing is missing.
        var sections = json.RootElement.GetProperty("sections").EnumerateArray()
            .Select(s => (Start: s.GetProperty("start").GetInt64(), End: s.GetProperty("end").GetInt64())).OrderBy(s => s.Start).ToList();
        Assert.Equal(1_000_000, sections.Sum(s => s.End - s.Start));
        for (var i = 1; i < sections.Count; i++)
        {
            Assert.Equal(sections[i - 1].End, sections[i].Start);
        }
    }

    [Fact]
    public void Critical_path_clips_children_to_their_parent_and_skips_ones_that_start_after_it_ends()
    {
        var resource = new Resource { ServiceName = "svc" };
        Span Make(ulong id, ulong parent, long start, long end) => new()
        {
            TraceId = new TraceId(1, 1), SpanId = new SpanId(id), ParentSpanId = new SpanId(parent), Name = $"s{id}",
            StartTimeUnixNano = start, EndTimeUnixNano = end, Resource = resource,
        };

        // Root 0-100; child 2 overflows to 150 (clipped to 100); child 3 starts after the root ended (fire-and-forget).
        var tree = TraceTree.Build([Make(1, 0, 0, 100), Make(2, 1, 40, 150), Make(3, 1, 120, 130)]);
        var sections = CriticalPath.Compute(tree);
        Assert.Equal([(2UL, 40L, 100L), (1UL, 0L, 40L)], sections.Select(s => (s.SpanId.Value, s.StartNanos, s.EndNanos)));
    }

    [Fact]
    public void Critical_path_gives_each_half_of_a_zipkin_shared_span_its_own_sections()
    {
        Span Make(ulong id, ulong parent, SpanKind kind, string service, long start, long end) => new()
        {
            TraceId = new TraceId(1, 1), SpanId = new SpanId(id), ParentSpanId = new SpanId(parent), Name = $"{service} {kind}",
            Kind = kind, StartTimeUnixNano = start, EndTimeUnixNano = end, Resource = new Resource { ServiceName = service },
        };

        // web's client call and api's server handling share span id 2 (Zipkin); the server half is under the client half.
        var tree = TraceTree.Build(
        [
            Make(1, 0, SpanKind.Server, "web", 0, 100),
            Make(2, 1, SpanKind.Client, "web", 10, 90),
            Make(2, 1, SpanKind.Server, "api", 15, 85),
            Make(3, 2, SpanKind.Client, "api", 20, 60),
        ]);

        var byRow = CriticalPath.Compute(tree).GroupBy(s => s.Node.Span.Name)
            .ToDictionary(g => g.Key, g => g.Select(s => (s.StartNanos, s.EndNanos)).Order().ToList());
        Assert.Equal([(0L, 10L), (90L, 100L)], byRow["web Server"]);
        Assert.Equal([(10L, 15L), (85L, 90L)], byRow["web Client"]);
        Assert.Equal([(15L, 20L), (60L, 85L)], byRow["api Server"]);
        Assert.Equal([(20L, 60L)], byRow["api Client"]);
    }

    [Fact]
    public async Task Compare_reports_added_and_removed_spans_and_latency_per_node()
    {
        using var json = JsonDocument.Parse(await Query.GetStringAsync($"/api/ariadne/compare?a={CheckoutTraces.Fast.ToHex()}&b={CheckoutTraces.Slow.ToHex()}"));
        var nodes = Flatten(json.RootElement.GetProperty("nodes")).ToList();
        string Change(string service, string operation) =>
            nodes.Single(n => n.GetProperty("service").GetString() == service && n.GetProperty("operation").GetString() == operation).GetProperty("change").GetString()!;

        Assert.Equal("removed", Change("orders", "apply-discount"));
        Assert.Equal("added", Change("payments", "fraud-check"));
        Assert.Equal("added", Change("notifications", "send-email"));
        Assert.Equal("added", Change("catalog", "get-price"));
        Assert.Equal("same", Change("payments", "charge"));
        var charge = nodes.Single(n => n.GetProperty("operation").GetString() == "charge");
        Assert.Equal(670_000 - 110_000, charge.GetProperty("deltaMicros").GetInt64());
        var root = nodes.Single(n => n.GetProperty("operation").GetString() == "POST /checkout");
        Assert.Equal(800_000, root.GetProperty("deltaMicros").GetInt64());
    }

    [Fact]
    public async Task Typical_trace_of_the_slow_checkout_is_the_median_of_the_others()
    {
        using var json = JsonDocument.Parse(await Query.GetStringAsync($"/api/ariadne/traces/{CheckoutTraces.Slow.ToHex()}/typical?lookback=1h"));
        Assert.Equal(CheckoutTraces.Fast.ToHex(), json.RootElement.GetProperty("traceId").GetString());
    }

    [Fact]
    public async Task Operation_overview_gives_rate_errors_and_percentiles()
    {
        using var json = JsonDocument.Parse(await Query.GetStringAsync("/api/ariadne/services/payments/operations?lookback=1h"));
        var operations = json.RootElement.GetProperty("operations").EnumerateArray().ToList();
        var charge = operations.Single(o => o.GetProperty("operation").GetString() == "charge");
        Assert.Equal(3, charge.GetProperty("count").GetInt32());
        Assert.Equal(170_000, charge.GetProperty("p50Micros").GetInt64());
        Assert.Equal(670_000, charge.GetProperty("p99Micros").GetInt64());
        var fraud = operations.Single(o => o.GetProperty("operation").GetString() == "fraud-check");
        Assert.Equal(1.0, fraud.GetProperty("errorRate").GetDouble());
    }

    [Fact]
    public async Task Bad_ids_and_unknown_traces_get_errors_that_say_what_to_do()
    {
        var bad = await Query.GetAsync("/api/ariadne/traces/not-hex/critical-path");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("hex", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var missing = await Query.GetAsync("/api/ariadne/traces/abc123/critical-path");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var compare = await Query.GetAsync("/api/ariadne/compare?a=1");
        Assert.Equal(HttpStatusCode.BadRequest, compare.StatusCode);
        var lookback = await Query.GetAsync("/api/ariadne/services/payments/operations?lookback=soon");
        Assert.Equal(HttpStatusCode.BadRequest, lookback.StatusCode);
    }

    [Fact]
    public async Task The_ui_and_its_api_answer_only_on_the_query_listener()
    {
        using var otlp = fixture.Server.CreateClient(Ariadne.Hosting.Listener.OtlpHttp);
        Assert.Equal(HttpStatusCode.NotFound, (await otlp.GetAsync("/search")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await otlp.GetAsync($"/api/ariadne/traces/{CheckoutTraces.Slow.ToHex()}/critical-path")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await otlp.GetAsync("/_framework/blazor.web.js")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Query.GetAsync("/_framework/blazor.web.js")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Query.GetAsync("/ui/app.css")).StatusCode);
    }

    [Fact]
    public void Durations_parse_as_go_writes_them_and_format_short()
    {
        Assert.True(DurationText.TryParse("1h30m", out var value));
        Assert.Equal(TimeSpan.FromMinutes(90), value);
        Assert.True(DurationText.TryParse("1.5ms", out value));
        Assert.Equal(TimeSpan.FromMicroseconds(1500), value);
        Assert.True(DurationText.TryParse("2d", out value));
        Assert.False(DurationText.TryParse("5 parsecs", out _));
        Assert.Equal("1.5ms", DurationText.Format(1_500_000));
        Assert.Equal("670ms", DurationText.Format(670_000_000));
        Assert.True(DurationText.TryParse(DurationText.Format(12_345), out value));
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement nodes)
    {
        foreach (var node in nodes.EnumerateArray())
        {
            yield return node;
            foreach (var child in Flatten(node.GetProperty("children")))
            {
                yield return child;
            }
        }
    }
}
