using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ariadne.Hosting;
using Ariadne.Search;
using Google.Protobuf;
using OpenTelemetry.Proto.Trace.V1;

namespace Ariadne.Tests.Query.Tempo;

/// <summary>
/// The requests Grafana's Tempo data source makes (grafana/grafana public/app/plugins/datasource/tempo and
/// pkg/tsdb/tempo), replayed against the real server after sending spans over OTLP, each answer checked against
/// Tempo's shapes (grafana/tempo pkg/tempopb/tempo.proto through gogo jsonpb: camelCase names, 64-bit numbers as
/// strings, zero values left out, base64 ids in traces, hex ids in search results).
/// </summary>
public sealed partial class TempoApiTests(TempoServerFixture fixture) : IClassFixture<TempoServerFixture>
{
    private const string Protobuf = "application/protobuf";

    public static TheoryData<string> Listeners => [nameof(Listener.Tempo), nameof(Listener.Query)];

    private HttpClient Client(string listener) => listener == nameof(Listener.Tempo) ? fixture.Tempo : fixture.Query;

    [Theory]
    [MemberData(nameof(Listeners))]
    public async Task Health_check_echo_ready_and_buildinfo_answer_as_tempo(string listener)
    {
        var (status, body, contentType) = await fixture.GetAsync(Client(listener), "/api/echo", "any");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("echo\n", Encoding.UTF8.GetString(body));
        Assert.StartsWith("text/plain", contentType, StringComparison.Ordinal);

        (status, body, _) = await fixture.GetAsync(Client(listener), "/ready", "any");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready\n", Encoding.UTF8.GetString(body));

        var info = await fixture.GetJsonAsync("/api/status/buildinfo", "any", Client(listener));
        Assert.Matches(@"^\d+\.\d+\.\d+$", (string)info["version"]!);
        foreach (var field in new[] { "revision", "branch", "buildUser", "buildDate", "goVersion" })
        {
            Assert.Equal(System.Text.Json.JsonValueKind.String, info[field]!.GetValueKind());
        }
    }

    [Theory]
    [MemberData(nameof(Listeners))]
    public async Task Trace_by_id_in_protobuf_is_otlp_traces_data_as_grafana_reads_it(string listener)
    {
        var seeded = await fixture.SeedAsync();
        // pkg/tsdb/tempo/trace.go: /api/traces/{id}?start=&end= in unix seconds, Accept: application/protobuf.
        var (status, body, contentType) = await fixture.GetAsync(Client(listener),
            $"/api/traces/{seeded.Checkout.ToHex()}?{seeded.Window}", seeded.Tenant, Protobuf);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Protobuf, contentType);
        var trace = TracesData.Parser.ParseFrom(body);
        var spans = trace.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans).ToList();
        Assert.Equal(3, spans.Count);
        Assert.All(spans, s => Assert.Equal(seeded.Checkout.ToBytes(), s.TraceId.ToByteArray()));
        var charge = spans.Single(s => s.Name == "charge");
        Assert.Equal(Span.Types.SpanKind.Client, charge.Kind);
        Assert.Equal(Status.Types.StatusCode.Error, charge.Status.Code);
        Assert.Equal("card declined", charge.Status.Message);
        Assert.Equal(42.5, charge.Attributes.Single(a => a.Key == "payment.amount").Value.DoubleValue);
        Assert.Equal(200_000_000UL, charge.EndTimeUnixNano - charge.StartTimeUnixNano);
        var payments = trace.ResourceSpans.Single(r => r.Resource.Attributes.Any(a => a.Key == "service.name" && a.Value.StringValue == "payments"));
        Assert.Equal("retry", payments.ScopeSpans.Single().Spans.Single().Events.Single().Name);
        var frontendScope = trace.ResourceSpans.SelectMany(r => r.ScopeSpans).First(s => s.Spans.Any(x => x.Name == "charge")).Scope;
        Assert.Equal(("checkout-lib", "1.2.0"), (frontendScope.Name, frontendScope.Version));
    }

    [Fact]
    public async Task Trace_by_id_v2_in_protobuf_wraps_the_trace_in_a_trace_by_id_response()
    {
        var seeded = await fixture.SeedAsync();

        var (status, body, contentType) = await fixture.GetAsync(fixture.Tempo, $"/api/v2/traces/{seeded.Cart.ToHex()}", seeded.Tenant, Protobuf);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Protobuf, contentType);
        // TraceByIDResponse { Trace trace = 1; ... }, and Trace is wire-compatible with TracesData.
        var input = new CodedInputStream(body);
        Assert.Equal(WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited), input.ReadTag());
        var trace = TracesData.Parser.ParseFrom(input.ReadBytes());
        Assert.True(input.IsAtEnd);
        Assert.Equal("GET /cart", trace.ResourceSpans.Single().ScopeSpans.Single().Spans.Single().Name);
    }

    [Fact]
    public async Task Trace_by_id_in_json_is_jsonpb_with_base64_ids_enum_names_and_batches_in_v1()
    {
        var seeded = await fixture.SeedAsync();

        var v1 = await fixture.GetJsonAsync($"/api/traces/{seeded.Checkout.ToHex()}", seeded.Tenant);
        var v2 = await fixture.GetJsonAsync($"/api/v2/traces/{seeded.Checkout.ToHex()}", seeded.Tenant);

        Assert.Null(v1["resourceSpans"]);
        Assert.Equal(2, v1["batches"]!.AsArray().Count);
        Assert.Equal(v1["batches"]!.ToJsonString(), v2["trace"]!["resourceSpans"]!.ToJsonString());
        Assert.Equal(JsonValueKindObject, v2["metrics"]!.GetValueKind());
        Assert.Null(v2["status"]); // COMPLETE is proto3's zero value, which jsonpb leaves out
        var spans = v1["batches"]!.AsArray().SelectMany(b => b!["scopeSpans"]!.AsArray()).SelectMany(s => s!["spans"]!.AsArray()).ToList();
        var charge = spans.Single(s => (string)s!["name"]! == "charge")!;
        Assert.Equal(Convert.ToBase64String(seeded.Checkout.ToBytes()), (string)charge["traceId"]!);
        Assert.Equal(Convert.ToBase64String([0, 0, 0, 0, 0, 0, 0, 0x0b]), (string)charge["spanId"]!);
        Assert.Equal(Convert.ToBase64String([0, 0, 0, 0, 0, 0, 0, 0x0a]), (string)charge["parentSpanId"]!);
        Assert.Equal("SPAN_KIND_CLIENT", (string)charge["kind"]!);
        Assert.Equal("STATUS_CODE_ERROR", (string)charge["status"]!["code"]!);
        Assert.Matches("^[0-9]+$", (string)charge["startTimeUnixNano"]!);
        var root = spans.Single(s => (string)s!["name"]! == "POST /checkout")!;
        Assert.Equal("""{"key":"http.response.status_code","value":{"intValue":"200"}}""",
            root["attributes"]!.AsArray().Single(a => (string)a!["key"]! == "http.response.status_code")!.ToJsonString());
    }

    [Theory]
    [InlineData("/api/traces/0000000000000000000000000000abcd")]
    [InlineData("/api/v2/traces/abcd")]
    public async Task Unknown_trace_is_404_with_an_empty_body(string url)
    {
        var seeded = await fixture.SeedAsync();

        var (status, body, _) = await fixture.GetAsync(fixture.Tempo, url, seeded.Tenant, Protobuf);

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Empty(body);
    }

    [Fact]
    public async Task Trace_outside_the_requested_window_is_not_found()
    {
        var seeded = await fixture.SeedAsync();
        var before = seeded.Start.AddDays(-2);

        var (status, _, _) = await fixture.GetAsync(fixture.Tempo,
            $"/api/traces/{seeded.Checkout.ToHex()}?start={SeededTraces.Seconds(before)}&end={SeededTraces.Seconds(before.AddHours(1))}", seeded.Tenant, Protobuf);

        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Theory]
    [InlineData("/api/traces/xyz", "trace IDs can only contain hex characters: invalid character 'x' at position 1")]
    [InlineData("/api/v2/traces/0123456789abcdef0123456789abcdef01", "trace IDs can't be larger than 128 bits")]
    [InlineData("/api/traces/abcd?start=200&end=100", "http parameter start must be before end. received start=200 end=100")]
    [InlineData("/api/traces/abcd?start=yesterday", "invalid start: strconv.ParseInt: parsing \"yesterday\": invalid syntax")]
    public async Task Bad_trace_requests_are_400_with_tempos_plain_text(string url, string message)
    {
        var (status, body, contentType) = await fixture.GetAsync(fixture.Tempo, url, "any", Protobuf);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("text/plain", contentType, StringComparison.Ordinal);
        Assert.Equal(message, Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task Jaeger_keeps_api_traces_on_the_query_port_for_clients_that_do_not_ask_for_protobuf()
    {
        var seeded = await fixture.SeedAsync();

        var jaeger = await fixture.GetJsonAsync($"/api/traces/{seeded.Cart.ToHex()}", seeded.Tenant, fixture.Query);

        Assert.Equal(seeded.Cart.ToHex(), (string)jaeger["data"]![0]!["traceID"]!);
    }

    [Fact]
    public async Task TraceQL_search_answers_a_search_response_with_spansets()
    {
        var seeded = await fixture.SeedAsync();
        // What the TraceQL editor sends (pkg/tsdb/tempo search, streaming off): q, limit, spss, start and end in seconds.
        var q = Uri.EscapeDataString("{ resource.service.name = \"payments\" && status = error }");

        var result = await fixture.GetJsonAsync($"/api/search?q={q}&limit=20&spss=3&{seeded.Window}", seeded.Tenant);

        var trace = Assert.Single(result["traces"]!.AsArray())!;
        Assert.Equal(seeded.Checkout.ToHex().TrimStart('0'), (string)trace["traceID"]!);
        Assert.Equal("frontend", (string)trace["rootServiceName"]!);
        Assert.Equal("POST /checkout", (string)trace["rootTraceName"]!);
        Assert.Equal(TestSpansNanos(seeded.Start), (string)trace["startTimeUnixNano"]!);
        Assert.Equal(300, (int)trace["durationMs"]!);
        var spanSet = Assert.Single(trace["spanSets"]!.AsArray())!;
        Assert.Equal(spanSet.ToJsonString(), trace["spanSet"]!.ToJsonString());
        Assert.Equal(1, (int)spanSet["matched"]!);
        var span = Assert.Single(spanSet["spans"]!.AsArray())!;
        Assert.Equal("000000000000000c", (string)span["spanID"]!);
        Assert.Equal("POST /charge", (string)span["name"]!);
        Assert.Equal("150000000", (string)span["durationNanos"]!);
        Assert.Matches("^[0-9]+$", (string)span["startTimeUnixNano"]!);
        Assert.Contains(span["attributes"]!.AsArray(), a => a!.ToJsonString() == """{"key":"service.name","value":{"stringValue":"payments"}}""");
        Assert.Equal(1, (int)trace["serviceStats"]!["payments"]!["spanCount"]!);
        Assert.Equal(1, (int)trace["serviceStats"]!["payments"]!["errorCount"]!);
        Assert.True((int)result["metrics"]!["inspectedTraces"]! >= 1);

        // The attributes a query compares come back with each matched span, under their bare names, typed.
        var byAmount = await fixture.GetJsonAsync($"/api/search?q={Uri.EscapeDataString("{ .payment.amount > 40 }")}&{seeded.Window}", seeded.Tenant);
        var charge = byAmount["traces"]![0]!["spanSets"]![0]!["spans"]![0]!;
        Assert.Equal("charge", (string)charge["name"]!);
        Assert.Contains(charge["attributes"]!.AsArray(), a => a!.ToJsonString() == """{"key":"payment.amount","value":{"doubleValue":42.5}}""");
    }

    [Fact]
    public async Task Search_honours_spans_per_spanset_and_limit()
    {
        var seeded = await fixture.SeedAsync();

        var result = await fixture.GetJsonAsync($"/api/search?q={Uri.EscapeDataString("{ }")}&limit=1&spss=2&{seeded.Window}", seeded.Tenant);

        var trace = Assert.Single(result["traces"]!.AsArray())!;
        var spanSet = trace["spanSets"]![0]!;
        Assert.True(spanSet["spans"]!.AsArray().Count <= 2);
        Assert.Equal((string)trace["traceID"]! == seeded.Checkout.ToHex().TrimStart('0') ? 3 : 1, (int)spanSet["matched"]!);
    }

    [Fact]
    public async Task Legacy_tag_search_matches_tags_and_trace_duration()
    {
        var seeded = await fixture.SeedAsync();
        // The search form's older request: tags in logfmt, minDuration/maxDuration as Go durations.
        var tags = Uri.EscapeDataString("service.name=\"frontend\" http.request.method=POST");

        var slow = await fixture.GetJsonAsync($"/api/search?tags={tags}&minDuration=100ms&maxDuration=5s&limit=20&{seeded.Window}", seeded.Tenant);
        var any = await fixture.GetJsonAsync($"/api/search?tags={Uri.EscapeDataString("service.name=frontend")}&limit=20&{seeded.Window}", seeded.Tenant);
        var none = await fixture.GetJsonAsync($"/api/search?tags={tags}&maxDuration=10ms&{seeded.Window}", seeded.Tenant);

        Assert.Equal(seeded.Checkout.ToHex().TrimStart('0'), (string)Assert.Single(slow["traces"]!.AsArray())!["traceID"]!);
        Assert.Equal(2, any["traces"]!.AsArray().Count);
        Assert.Empty(none["traces"]!.AsArray());
    }

    [Fact]
    public async Task Bad_TraceQL_is_400_naming_line_and_column()
    {
        const string query = "{ resource.service.name = }";
        var expected = Assert.Throws<SearchSyntaxException>(() => SearchQuery.Parse(query));

        var (status, body, contentType) = await fixture.GetAsync(fixture.Tempo, $"/api/search?q={Uri.EscapeDataString(query)}", "any");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("text/plain", contentType, StringComparison.Ordinal);
        Assert.Equal($"parse error at line 1, col {expected.Position + 1}: {expected.Problem}", Encoding.UTF8.GetString(body));
    }

    [Theory]
    [InlineData("/api/search?start=200&end=100", "http parameter start must be before end. received start=200 end=100")]
    [InlineData("/api/search?start=-1&end=100", "invalid start: strconv.ParseUint: parsing \"-1\": invalid syntax")]
    [InlineData("/api/search?limit=0", "invalid limit: must be a positive number")]
    [InlineData("/api/search?q={}&tags=a=b", "invalid request: can't specify tags and q in the same query")]
    [InlineData("/api/search?tags=a=b%20a=c", "invalid tags: tag a has been set twice")]
    [InlineData("/api/search?tags=a=b&minDuration=2s&maxDuration=1s", "invalid maxDuration: must be greater than minDuration")]
    [InlineData("/api/search?q={}%20%7C%20rate()", "parse error at line 1, col 6: this is a TraceQL metrics query: run it on /api/metrics/query_range (Grafana: query type Metrics), or remove the metrics function to search")]
    [InlineData("/api/v2/search/tags?scope=bogus", "invalid scope: bogus")]
    [InlineData("/api/metrics/query_range?q={}%7Crate()&start=200&end=100", "end (100000000000) must be after start (200000000000): give an end later than the start, or leave both out for the last hour.")]
    [InlineData("/api/metrics/query_range?q={}%7Crate()&step=-5s", "cannot parse \"-5s\": step must be positive")]
    public async Task Bad_parameters_are_400_with_tempos_message(string url, string message)
    {
        var (status, body, _) = await fixture.GetAsync(fixture.Tempo, url, "any");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message, Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task Tag_names_v1_and_v2_by_scope_as_the_editor_autocompletes()
    {
        var seeded = await fixture.SeedAsync();

        var v1 = await fixture.GetJsonAsync($"/api/search/tags?{seeded.Window}", seeded.Tenant);
        // Grafana's language provider: /api/v2/search/tags with limit (and start/end when the tag time range is set).
        var all = await fixture.GetJsonAsync($"/api/v2/search/tags?limit=5000&{seeded.Window}", seeded.Tenant);
        var span = await fixture.GetJsonAsync($"/api/v2/search/tags?scope=span&{seeded.Window}", seeded.Tenant);
        var intrinsic = await fixture.GetJsonAsync("/api/v2/search/tags?scope=intrinsic", seeded.Tenant);

        var names = v1["tagNames"]!.AsArray().Select(n => (string)n!).ToList();
        Assert.Subset(names.ToHashSet(), new HashSet<string> { "deployment.environment", "http.request.method", "payment.amount", "service.name", "attempt" });
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        var scopes = all["scopes"]!.AsArray().ToDictionary(s => (string)s!["name"]!, s => s!["tags"]!.AsArray().Select(t => (string)t!).ToList());
        Assert.Equal(["intrinsic", "resource", "span", "event"], scopes.Keys); // no scope has attributes, so no instrumentation scope
        Assert.Contains("rootServiceName", scopes["intrinsic"]);
        Assert.Contains("span:duration", scopes["intrinsic"]);
        Assert.Equal(["deployment.environment", "service.name"], scopes["resource"]);
        Assert.Equal(["http.request.method", "http.response.status_code", "payment.amount"], scopes["span"]);
        Assert.Equal(["attempt"], scopes["event"]);
        var spanScope = Assert.Single(span["scopes"]!.AsArray())!;
        Assert.Equal("span", (string)spanScope["name"]!);
        Assert.Equal("intrinsic", (string)Assert.Single(intrinsic["scopes"]!.AsArray())!["name"]!);
    }

    [Fact]
    public async Task Tag_values_v2_are_typed_and_narrowed_by_the_query_being_typed()
    {
        var seeded = await fixture.SeedAsync();

        var status = await fixture.GetJsonAsync($"/api/v2/search/tag/span.http.response.status_code/values?{seeded.Window}", seeded.Tenant);
        var services = await fixture.GetJsonAsync($"/api/v2/search/tag/resource.service.name/values?limit=5000&{seeded.Window}", seeded.Tenant);
        var amount = await fixture.GetJsonAsync($"/api/v2/search/tag/.payment.amount/values?{seeded.Window}", seeded.Tenant);
        var names = await fixture.GetJsonAsync(
            $"/api/v2/search/tag/name/values?q={Uri.EscapeDataString("{ resource.service.name = \"payments\" }")}&{seeded.Window}", seeded.Tenant);
        var typing = await fixture.GetJsonAsync(
            $"/api/v2/search/tag/name/values?q={Uri.EscapeDataString("{ resource.service.name = \"payments\" && name = }")}&{seeded.Window}", seeded.Tenant);
        var kinds = await fixture.GetJsonAsync("/api/v2/search/tag/kind/values", seeded.Tenant);

        Assert.Equal("""[{"type":"int","value":"200"}]""", status["tagValues"]!.ToJsonString());
        Assert.Equal("""[{"type":"string","value":"frontend"},{"type":"string","value":"payments"}]""", services["tagValues"]!.ToJsonString());
        Assert.Equal("""[{"type":"float","value":"42.5"}]""", amount["tagValues"]!.ToJsonString());
        Assert.Equal("""[{"type":"string","value":"POST /charge"}]""", names["tagValues"]!.ToJsonString());
        Assert.Equal(4, typing["tagValues"]!.AsArray().Count); // a query that does not parse yet narrows nothing
        Assert.Contains(kinds["tagValues"]!.AsArray(), v => v!.ToJsonString() == """{"type":"keyword","value":"server"}""");
    }

    [Fact]
    public async Task Tag_values_v1_are_strings_of_an_unscoped_attribute()
    {
        var seeded = await fixture.SeedAsync();

        var services = await fixture.GetJsonAsync($"/api/search/tag/service.name/values?{seeded.Window}", seeded.Tenant);
        var methods = await fixture.GetJsonAsync($"/api/search/tag/http.request.method/values?{seeded.Window}", seeded.Tenant);

        Assert.Equal("""["frontend","payments"]""", services["tagValues"]!.ToJsonString());
        Assert.Equal("""["GET","POST"]""", methods["tagValues"]!.ToJsonString());
    }

    [Fact]
    public async Task Bad_tag_name_is_400_saying_what_a_tag_looks_like()
    {
        var (status, body, _) = await fixture.GetAsync(fixture.Tempo, "/api/v2/search/tag/nosuchintrinsic/values", "any");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("tag name is not valid intrinsic or scoped attribute: nosuchintrinsic", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_query_range_rate_and_count_by_service_are_query_range_responses()
    {
        var seeded = await fixture.SeedAsync();
        // pkg/tsdb/tempo/traceql_query.go: /api/metrics/query_range?q=&start=&end=&step=&exemplars= (seconds).
        var window = $"start={SeededTraces.Seconds(seeded.Start.AddMinutes(-5))}&end={SeededTraces.Seconds(seeded.Start.AddMinutes(5))}";

        var rate = await fixture.GetJsonAsync(
            $"/api/metrics/query_range?q={Uri.EscapeDataString("{ } | rate() by (resource.service.name)")}&{window}&step=60s&exemplars=10", seeded.Tenant);
        var count = await fixture.GetJsonAsync(
            $"/api/metrics/query_range?q={Uri.EscapeDataString("{ kind = server } | count_over_time()")}&{window}&step=30", seeded.Tenant);

        var series = rate["series"]!.AsArray().ToDictionary(s => (string)s!["labels"]![0]!["value"]!["stringValue"]!, s => s!);
        Assert.Equal(["frontend", "payments"], series.Keys.Order());
        Assert.Equal("resource.service.name", (string)series["frontend"]["labels"]![0]!["key"]!);
        var samples = series["frontend"]["samples"]!.AsArray();
        Assert.InRange(samples.Count, 10, 11); // one-minute steps over ten minutes, aligned to whole minutes
        Assert.All(samples, s => Assert.Matches("^[0-9]{13}$", (string)s!["timestampMs"]!));
        Assert.Equal(3.0 / 60, samples.Sum(s => (double?)s!["value"] ?? 0), 9);
        var exemplar = series["payments"]["exemplars"]!.AsArray().First()!;
        Assert.Equal(seeded.Checkout.ToHex(), (string)exemplar["labels"]!.AsArray().Single(l => (string)l!["key"]! == "trace:id")!["value"]!["stringValue"]!);

        var total = Assert.Single(count["series"]!.AsArray())!;
        Assert.Equal("""[{"key":"__name__","value":{"stringValue":"count_over_time"}}]""", total["labels"]!.ToJsonString());
        Assert.Equal(3, total["samples"]!.AsArray().Sum(s => (double?)s!["value"] ?? 0));
        Assert.Equal(1, (int)count["metrics"]!["completedJobs"]!);
    }

    [Fact]
    public async Task Metrics_quantiles_and_histograms_are_in_seconds_with_tempos_labels()
    {
        var seeded = await fixture.SeedAsync();
        var window = $"start={SeededTraces.Seconds(seeded.Start.AddMinutes(-5))}&end={SeededTraces.Seconds(seeded.Start.AddMinutes(5))}";

        var quantiles = await fixture.GetJsonAsync(
            $"/api/metrics/query_range?q={Uri.EscapeDataString("{ name = \"POST /checkout\" } | quantile_over_time(duration, .5, .9)")}&{window}&step=10m", seeded.Tenant);
        var histogram = await fixture.GetJsonAsync(
            $"/api/metrics/query_range?q={Uri.EscapeDataString("{ } | histogram_over_time(duration)")}&{window}&step=10m", seeded.Tenant);

        var p = quantiles["series"]!.AsArray().Select(s => s!["labels"]!.AsArray().Single(l => (string)l!["key"]! == "p")!["value"]!["doubleValue"]!.GetValue<double>()).ToList();
        Assert.Equal([0.5, 0.9], p);
        // One 300 ms span: its power-of-two bucket's top is 2^29 ns, about 0.537 s, which Tempo reports for every quantile.
        var value = quantiles["series"]![0]!["samples"]!.AsArray().Select(s => (double?)s!["value"] ?? 0).Max();
        Assert.Equal((1 << 29) / 1e9, value, 9);
        var buckets = histogram["series"]!.AsArray()
            .Select(s => s!["labels"]!.AsArray().Single(l => (string)l!["key"]! == "__bucket")!["value"]!["doubleValue"]!.GetValue<double>())
            .Order().ToList();
        Assert.Equal([(1 << 21) / 1e9, (1 << 28) / 1e9, (1 << 29) / 1e9], buckets);
    }

    [Fact]
    public async Task Metrics_instant_query_is_one_value_per_series()
    {
        var seeded = await fixture.SeedAsync();
        var window = $"start={SeededTraces.Seconds(seeded.Start.AddMinutes(-5))}&end={SeededTraces.Seconds(seeded.Start.AddMinutes(5))}";

        var result = await fixture.GetJsonAsync($"/api/metrics/query?q={Uri.EscapeDataString("{ status = error } | count_over_time() by (name)")}&{window}", seeded.Tenant);

        var values = result["series"]!.AsArray().ToDictionary(s => (string)s!["labels"]![0]!["value"]!["stringValue"]!, s => (double)s!["value"]!);
        Assert.Equal(new Dictionary<string, double> { ["charge"] = 1, ["POST /charge"] = 1 }, values);
    }

    [Fact]
    public async Task Metrics_over_time_functions_topk_and_value_filters_run_as_in_tempo()
    {
        var seeded = await fixture.SeedAsync();
        var window = $"start={SeededTraces.Seconds(seeded.Start.AddMinutes(-5))}&end={SeededTraces.Seconds(seeded.Start.AddMinutes(5))}";
        async Task<Dictionary<string, double>> InstantAsync(string query)
        {
            var result = await fixture.GetJsonAsync($"/api/metrics/query?q={Uri.EscapeDataString(query)}&{window}", seeded.Tenant);
            return result["series"]!.AsArray().ToDictionary(s => (string)s!["labels"]![0]!["value"]!["stringValue"]!, s => (double)s!["value"]!);
        }

        // Durations in seconds, as Tempo reports them; spans without the measured attribute are left out.
        Assert.Equal(new Dictionary<string, double> { ["frontend"] = 0.3, ["payments"] = 0.15 },
            await InstantAsync("{ } | max_over_time(duration) by (resource.service.name)"));
        Assert.Equal(0.502 / 3, (await InstantAsync("{ resource.service.name = \"frontend\" } | avg_over_time(duration) by (resource.service.name)"))["frontend"], 9);
        Assert.Equal(new Dictionary<string, double> { ["sum_over_time"] = 42.5 }, await InstantAsync("{ } | sum_over_time(span.payment.amount)"));
        Assert.Equal(new Dictionary<string, double> { ["POST /checkout"] = 0.3 }, await InstantAsync("{ kind = server } | min_over_time(duration) by (name) | topk(1)"));
        Assert.Equal(new Dictionary<string, double> { ["GET /cart"] = 0.002 }, await InstantAsync("{ kind = server } | min_over_time(duration) by (name) | bottomk(1)"));
        Assert.Equal(new Dictionary<string, double> { ["frontend"] = 3 }, await InstantAsync("{ } | count_over_time() by (resource.service.name) > 2"));
    }

    [Theory]
    [InlineData("{ } | rate(", 12, "expected ')': rate() takes no arguments, found the end of the query")]
    [InlineData("{ } | avg_of_nothing()", 7, "unknown function 'avg_of_nothing'")]
    [InlineData("{ } | rate() by (bogus)", 18, "the bare word 'bogus'; quote text values: \"bogus\", and write attributes with a scope: span.bogus")]
    [InlineData("{ } | compare({ status = error })", 7, "compare() is not supported on this endpoint")]
    [InlineData("{ }", 4, "not a metrics query")]
    public async Task Bad_metrics_queries_are_400_naming_the_position(string query, int column, string message)
    {
        var (status, body, _) = await fixture.GetAsync(fixture.Tempo, $"/api/metrics/query_range?q={Uri.EscapeDataString(query)}", "any");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var text = Encoding.UTF8.GetString(body);
        Assert.Matches(ParseErrorPattern(), text);
        Assert.StartsWith($"parse error at line 1, col {column}: ", text, StringComparison.Ordinal);
        Assert.Contains(message, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tenant_sees_only_its_own_traces_tags_and_metrics()
    {
        var seeded = await fixture.SeedAsync();
        const string other = "someone-else";

        var (traceStatus, _, _) = await fixture.GetAsync(fixture.Tempo, $"/api/v2/traces/{seeded.Checkout.ToHex()}", other, Protobuf);
        var search = await fixture.GetJsonAsync($"/api/search?q={Uri.EscapeDataString("{ }")}&{seeded.Window}", other);
        var tags = await fixture.GetJsonAsync($"/api/v2/search/tags?scope=span&{seeded.Window}", other);
        var values = await fixture.GetJsonAsync($"/api/v2/search/tag/resource.service.name/values?{seeded.Window}", other);
        var metrics = await fixture.GetJsonAsync($"/api/metrics/query_range?q={Uri.EscapeDataString("{ } | rate()")}&{seeded.Window}", other);
        var own = await fixture.GetJsonAsync($"/api/search?q={Uri.EscapeDataString("{ }")}&{seeded.Window}", seeded.Tenant);

        Assert.Equal(HttpStatusCode.NotFound, traceStatus);
        Assert.Empty(search["traces"]!.AsArray());
        Assert.Empty(tags["scopes"]!.AsArray());
        Assert.Empty(values["tagValues"]!.AsArray());
        Assert.Empty(metrics["series"]!.AsArray());
        Assert.Equal(2, own["traces"]!.AsArray().Count);
    }

    private static string TestSpansNanos(DateTimeOffset time) =>
        Infrastructure.TestSpans.Nanos(time).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private const System.Text.Json.JsonValueKind JsonValueKindObject = System.Text.Json.JsonValueKind.Object;

    [GeneratedRegex(@"^parse error at line 1, col \d+: ")]
    private static partial Regex ParseErrorPattern();
}
