using System.Text;
using Ariadne.Analysis;
using Ariadne.Model;
using Ariadne.Search;

namespace Ariadne.Tests.Search;

/// <summary>
/// Tempo's TraceQL documentation examples (grafana/tempo docs/sources/tempo/traceql and metrics-from-traces/metrics-queries)
/// and a sample of pkg/traceql/test_examples.yaml, run over three fixed traces. Each row's expected result was worked
/// out from Tempo's documented semantics; the table in docs/search.md is generated from these rows
/// (ARIADNE_WRITE_CONFORMANCE=1 rewrites it) and must match.
/// </summary>
public sealed class TraceQLConformanceTests
{
    private const string Start = "<!-- conformance:start -->";
    private const string End = "<!-- conformance:end -->";

    private static readonly (string Source, string Query, string Expected)[] s_rows =
    [
        ("construct", "{ }", "A, B, C"),
        ("construct", "{ span.http.status_code >= 200 && span.http.status_code < 300 } | count() > 2", "none"),
        ("construct", "{resource.service.name = \"frontend\" && name = \"POST /api/orders\"}", "A, C"),
        ("construct", "{ resource.service.namespace = \"ecommerce\" && resource.service.name = \"frontend\" && resource.deployment.environment = \"production\" && name = \"POST /api/orders\" }", "A"),
        ("construct", "{ resource.service.name=\"frontend\" && name = \"POST /api/orders\" && status = error }", "none"),
        ("construct", "{span.service.name=\"frontend\" && name = \"GET /api/products/{id}\"} && {span.db.system=\"postgresql\"}", "A"),
        ("construct", "{ resource.deployment.environment = \"production\" } && { resource.deployment.environment = \"staging\" }", "none"),
        ("construct", "{ span.foo = \"bar\" }", "B"),
        ("construct", "{ span.foo != \"bar\" }", "none"),
        ("construct", "{ span.http.request.header.Accept =~ \"application.*\" }", "B"),
        ("construct", "{ span.http.request.header.Accept !~ \"application.*\" }", "none"),
        ("construct", "{ resource.service.name=\"frontend\" } >> { status = error }", "A"),
        ("construct", "{ } !< { resource.service.name = \"productcatalogservice\" }", "A"),
        ("construct", "{ resource.service.name = \"productcatalogservice\" } ~ { resource.service.name=\"frontend\" }", "A"),
        ("construct", "{ span:childCount = 0 }", "A, B, C"),
        ("construct", "{ resource.service.name = \"frontend\" && span:childCount = 0 }", "A, C"),
        ("construct", "{ span:childCount > 10 }", "none"),
        ("construct", "{ span.http.status_code = 200 } | select(resource.service.name)", "A, C"),
        ("construct", "{ resource.deployment.environment = \"production\" } && { span.http.status_code = 200 }", "A, C"),
        ("construct", "{ span.http.method = \"GET\" && status = ok } && { span.http.method = \"DELETE\" && status != ok }", "none"),
        ("construct", "{ resource.deployment.environment =~ \"prod-.*\" && span.http.status_code = 200 }", "none"),
        ("construct", "{ trace:duration > 5s }", "A"),
        ("construct", "{ span:duration < 5ms } | count_over_time() by(resource.service.name) | topk(10)", "metrics over A, B, C"),
        ("construct", "{ resource.deployment.environment = \"production\" && trace:duration > 2s } | count() > 30", "none"),
        ("construct", "{ span:name = \"foo\" }", "none"),
        ("construct", "{ event:name = \"foo\" }", "none"),
        ("construct", "{ trace:id = \"1234\" }", "none"),
        ("construct", "{ link:traceID = \"1234\" }", "none"),
        ("construct", "{ link.foo = \"bar\" }", "none"),
        ("construct", "{ resource.k8s.cluster.name=\"service-name\" && trace:rootName !~ \".*perf.*\"}", "C"),
        ("construct", "{ span.http.method = \"GET\" }", "A, C"),
        ("construct", "{ span.db.system =~ \"postgresql|mysql\" }", "A, B"),
        ("construct", "{ event.exception.message =~ \".*something went wrong.*\" }", "A"),
        ("construct", "{ link.opentracing.ref_type = \"child_of\" }", "C"),
        ("construct", "{ instrumentation.language = \"java\" }", "C"),
        ("construct", "{ resource.service.name = \"foo\" } | rate() by (instrumentation:name)", "metrics over none"),
        ("construct", "{ span.\"attribute name with space\" = \"value\" }", "C"),
        ("construct", "{ span.attribute.\"attribute name with space\" = \"value\" }", "none"),
        ("construct", "{ span.retry_count > -1 }", "B, C"),
        ("construct", "{ span.value != minInt && span.value != maxInt }", "C"),
        ("construct", "{ span:duration > 100ms }", "A, C"),
        ("construct", "{ event:timeSinceStart > -5s }", "A"),
        ("construct", "{ span.value > 1.5 }", "C"),
        ("construct", "{ span.optional_field = nil }", "A, B, C"),
        ("construct", "{ span.required_field != nil }", "none"),
        ("construct", "{ span.http.status_code >= 400 && span.http.status_code < 500 }", "none"),
        ("construct", "{ span.http.status_code >= \"400\" }", "none"),
        ("construct", "{ span.http.method =~ \"DELETE|GET\" }", "A, B, C"),
        ("construct", "{ resource.service.version = nil }", "A, C"),
        ("construct", "{ event.exception.message = nil }", "A, B, C"),
        ("construct", "{ span.http.method = \"DELETE\" && status != ok }", "B"),
        ("construct", "{ resource.cloud.region = \"us-east-1\" } && { resource.cloud.region = \"us-west-1\" }", "C"),
        ("construct", "{ resource.cloud.region = \"us-east-1\" && resource.cloud.region = \"us-west-1\" }", "none"),
        ("construct", "{ resource.cloud.region = \"us-east-1\" } || { resource.cloud.region = \"us-west-1\" }", "A, B, C"),
        ("construct", "{ span.http.url = \"/path/of/api\" } >> { span.db.name = \"db-shard-001\" }", "A"),
        ("construct", "{ span.http.url = \"/path/of/api\" && status = ok } &>> { status = error }", "A"),
        ("construct", "{ status = error } !< { status = error }", "A, B"),
        ("construct", "count() > 10", "none"),
        ("construct", "avg(duration) > 20ms", "A, B, C"),
        ("construct", "{ } | sum(span.bytesProcessed) > 1000000000", "C"),
        ("construct", "{ status = error } | by(resource.service.name) | count() > 1", "A, B"),
        ("construct", "{ span.http.request_content_length > 10 * 1024 * 1024 }", "C"),
        ("construct", "{ status = error } | select(span.http.status_code, span.http.url)", "A, B"),
        ("construct", "{} with (most_recent=true)", "A, B, C"),
        ("construct", "{ span.foo = \"bar\" } >> { status = error } with (most_recent=true)", "none"),
        ("tune", "{ span.http.url = \"/api\" } && { span.http.status_code != 200 }", "B"),
        ("tune", "{ .http.status_code = 500 }", "B"),
        ("tune", "{ trace:rootName = \"POST /api/orders\" && resource.deployment.environment = \"production\" }", "A, C"),
        ("tune", "{ resource.service.name = \"api\" } | quantile_over_time(duration, 0.9) with(sample=true)", "metrics over B"),
        ("metrics", "100 * ({status=error} | rate()) / ({} | rate())", "unsupported"),
        ("metrics", "{ resource.service.name = \"frontend\" } | rate() by (status) with (spanonly_fetch=true)", "metrics over A, C"),
        ("functions", "{ span:status = error } | rate() by (resource.service.name, span:name)", "metrics over A, B"),
        ("functions", "{ span:name = \"GET /:endpoint\" } | quantile_over_time(span:duration, .99, .9, .5)", "metrics over none"),
        ("functions", "{ } | histogram_over_time(span:duration) by (span.http.target)", "metrics over A, B, C"),
        ("functions", "{ span:name = \"GET /:endpoint\" } | avg_over_time(span:duration) > 1s", "metrics over none"),
        ("functions", "{} | rate() by (span.http.url) | topk(5) > 10", "metrics over A, B, C"),
        ("functions", "{ resource.service.name=\"a\" && span.http.path=\"/myapi\" } | compare({span:status=error})", "metrics over none"),
        ("functions", "({status=error} | rate()) / ({} | rate())", "unsupported"),
        ("yaml valid", "{ !(\"test\" != .c || ((true && .b) || 3 < .a)) }", "A, B, C"),
        ("yaml valid", "({ true } | count() > 1 | { false }) >> ({ true } | count() > 1 | { false })", "none"),
        ("yaml valid", "max(duration) > 3s | { status = error || .http.status = 500 }", "A"),
        ("yaml valid", "{ true } | by(1 + .a) | coalesce()", "A, B, C"),
        ("yaml valid", "{ name != nil }", "A, B, C"),
        ("yaml valid", "{ 1 * 1h = 1 }", "none"),
        ("yaml parse_fails", "{ .a < 3", "400"),
        ("yaml parse_fails", "{ true } = { true }", "400"),
        ("yaml parse_fails", "{} | rate() == 42", "400"),
        ("yaml parse_fails", "max(name) = \"foo\"", "400"),
        ("yaml parse_fails", "{ trace:rootServiceName = \"a\" }", "400"),
        ("yaml parse_fails", "count() > 3 && { true }", "400"),
        ("yaml validate_fails", "{ 1 = \"foo\" }", "400"),
        ("yaml validate_fails", "{ span.foo =~ \"[\" }", "400"),
        ("yaml validate_fails", "sum(3) = 2", "400"),
        ("yaml unsupported", "min(.field) < max(duration)", "none"),
    ];

    public static TheoryData<int> Rows() => new(Enumerable.Range(0, s_rows.Length));

    [Theory]
    [MemberData(nameof(Rows))]
    public void Tempo_example_gives_its_expected_result(int row)
    {
        var (_, query, expected) = s_rows[row];
        var actual = Run(query);
        Assert.True(actual == expected || (expected is "400" or "unsupported" && actual.StartsWith("400", StringComparison.Ordinal)), $"{query}: expected {expected}, got {actual}");
    }

    [Fact]
    public void Docs_conformance_table_is_up_to_date()
    {
        var path = DocsPath();
        var doc = File.ReadAllText(path);
        var table = Table();
        var start = doc.IndexOf(Start, StringComparison.Ordinal);
        var end = doc.IndexOf(End, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"docs/search.md needs the markers {Start} and {End}.");
        var updated = doc[..(start + Start.Length)] + "\n" + table + doc[end..];
        if (Environment.GetEnvironmentVariable("ARIADNE_WRITE_CONFORMANCE") == "1")
        {
            File.WriteAllText(path, updated);
        }

        Assert.True(updated == doc, "docs/search.md's conformance table is out of date: run this test with ARIADNE_WRITE_CONFORMANCE=1.");
    }

    /// <summary>Every line of a <c>traceql</c> block in docs/search.md is a query, <c>#</c>, and what it gives over the fixed traces.</summary>
    [Fact]
    public void Docs_examples_give_what_their_comments_say()
    {
        var examples = DocsExamples(File.ReadAllText(DocsPath()));
        Assert.True(examples.Count >= 40, $"docs/search.md should hold its examples in ```traceql blocks; found {examples.Count}.");
        var wrong = examples.Select(e => (e.Query, e.Expected, Actual: Run(e.Query))).Where(e => e.Actual != e.Expected)
            .Select(e => $"{e.Query}  # expected {e.Expected}, got {e.Actual}").ToList();
        Assert.True(wrong.Count == 0, "docs/search.md examples that do not give their comment:\n" + string.Join("\n", wrong));
    }

    private static List<(string Query, string Expected)> DocsExamples(string doc)
    {
        var examples = new List<(string, string)>();
        var inBlock = false;
        foreach (var line in doc.Split('\n'))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = line.Trim() == "```traceql";
                continue;
            }

            if (!inBlock || line.Trim().Length == 0)
            {
                continue;
            }

            var comment = line.LastIndexOf(" # ", StringComparison.Ordinal);
            Assert.True(comment > 0, $"docs/search.md: the example '{line}' needs '# <what it gives>' after it.");
            examples.Add((line[..comment].Trim(), line[(comment + 3)..].Trim()));
        }

        return examples;
    }

    private static string Table()
    {
        var sb = new StringBuilder("| # | Source | Query | Expected | Result |\n|---|---|---|---|---|\n");
        for (var i = 0; i < s_rows.Length; i++)
        {
            var (source, query, expected) = s_rows[i];
            var actual = Run(query);
            var pass = actual == expected || (expected is "400" or "unsupported" && actual.StartsWith("400", StringComparison.Ordinal));
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"| {i + 1} | {source} | `{query.Replace("|", "\\|", StringComparison.Ordinal)}` | {expected} | {(pass ? "pass" : "FAIL")}: {actual.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
        }

        return sb.ToString();
    }

    private static string DocsPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "docs", "search.md");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("docs/search.md not found above the test directory.");
    }

    private static string Run(string text)
    {
        SearchQuery query;
        try
        {
            query = SearchQuery.Parse(text);
        }
        catch (SearchSyntaxException e)
        {
            return $"400 at {e.Position}";
        }

        var matched = s_traces.Where(t => query.Match(TraceTree.Build(t.Spans)).Count > 0).Select(t => t.Name).ToList();
        var names = matched.Count == 0 ? "none" : string.Join(", ", matched);
        return query.IsMetrics ? "metrics over " + names : names;
    }

    private static readonly (string Name, Span[] Spans)[] s_traces = [("A", TraceA()), ("B", TraceB()), ("C", TraceC())];

    private const long Ms = 1_000_000;
    private const long T0 = 1_764_000_000_000_000_000;

    private static Resource Res(string service, params KeyValue[] attributes) =>
        new() { ServiceName = service, Attributes = [KeyValue.String("service.name", service), .. attributes] };

    private static Span Make(ulong trace, ulong id, ulong parent, Resource resource, string name, SpanKind kind, StatusCode status, long startMs, long durationMs, params KeyValue[] attributes) => new()
    {
        TraceId = new TraceId(0, trace),
        SpanId = new SpanId(id),
        ParentSpanId = new SpanId(parent),
        Resource = resource,
        Name = name,
        Kind = kind,
        StatusCode = status,
        StartTimeUnixNano = T0 + startMs * Ms,
        EndTimeUnixNano = T0 + (startMs + durationMs) * Ms,
        Attributes = attributes,
    };

    private static KeyValue Array(string key, params string[] values) => new(key, AnyValue.FromArray(values.Select(AnyValue.FromString).ToArray()));

    /// <summary>A: frontend (production, us-east-1) calls productcatalogservice, whose server span errors with an exception event; 6 s.</summary>
    private static Span[] TraceA()
    {
        var frontend = Res("frontend", KeyValue.String("service.namespace", "ecommerce"), KeyValue.String("deployment.environment", "production"), KeyValue.String("cloud.region", "us-east-1"));
        var catalog = Res("productcatalogservice", KeyValue.String("deployment.environment", "production"), KeyValue.String("cloud.region", "us-east-1"));
        var getProduct = Make(0xA, 3, 1, catalog, "GetProduct", SpanKind.Server, StatusCode.Error, 200, 3,
            KeyValue.String("db.system", "postgresql"), KeyValue.String("db.name", "db-shard-001"), KeyValue.Int("http.status_code", 503));
        getProduct.Events = [new SpanEvent(T0 + 201 * Ms, "exception", [KeyValue.String("exception.message", "something went wrong here")])];
        return
        [
            Make(0xA, 1, 0, frontend, "POST /api/orders", SpanKind.Server, StatusCode.Ok, 0, 6000,
                KeyValue.String("http.method", "POST"), KeyValue.String("http.url", "/path/of/api"), KeyValue.Int("http.status_code", 200), KeyValue.String("service.name", "frontend")),
            Make(0xA, 2, 1, frontend, "GET /api/products/{id}", SpanKind.Client, StatusCode.Unset, 100, 100,
                KeyValue.String("http.method", "GET"), KeyValue.Int("http.status_code", 200), KeyValue.String("service.name", "frontend")),
            getProduct,
            Make(0xA, 4, 3, catalog, "SELECT products", SpanKind.Client, StatusCode.Error, 200, 2, KeyValue.String("db.system", "postgresql")),
        ];
    }

    /// <summary>B: api in staging (us-west-1, service.version set): a failing DELETE with a cache span (array attributes) and a failing mysql call.</summary>
    private static Span[] TraceB()
    {
        var api = Res("api", KeyValue.String("deployment.environment", "staging"), KeyValue.String("cloud.region", "us-west-1"), KeyValue.String("service.version", "1.2"));
        return
        [
            Make(0xB, 11, 0, api, "DELETE /api/cart", SpanKind.Server, StatusCode.Error, 0, 50,
                KeyValue.String("http.method", "DELETE"), KeyValue.Int("http.status_code", 500), KeyValue.String("http.url", "/api")),
            Make(0xB, 12, 11, api, "cache", SpanKind.Internal, StatusCode.Unset, 1, 1,
                Array("foo", "bar", "baz"), KeyValue.Int("retry_count", 0), Array("http.request.header.Accept", "application/json", "text/html")),
            Make(0xB, 13, 11, api, "SELECT cart", SpanKind.Client, StatusCode.Error, 5, 30, KeyValue.String("db.system", "mysql")),
        ];
    }

    /// <summary>C: frontend (production, us-west-1, cluster service-name) calls payments (us-east-1, grpc instrumentation, a link to A); 1 s.</summary>
    private static Span[] TraceC()
    {
        var frontend = Res("frontend", KeyValue.String("deployment.environment", "production"), KeyValue.String("cloud.region", "us-west-1"), KeyValue.String("k8s.cluster.name", "service-name"));
        var payments = Res("payments", KeyValue.String("deployment.environment", "production"), KeyValue.String("cloud.region", "us-east-1"));
        var charge = Make(0xC, 22, 21, payments, "charge", SpanKind.Client, StatusCode.Ok, 100, 800,
            KeyValue.String("attribute name with space", "value"), KeyValue.Int("bytesProcessed", 2_000_000_000), KeyValue.Double("value", 1.6), KeyValue.Int("retry_count", 2));
        charge.Scope = new InstrumentationScope { Name = "grpc", Version = "1.0.0", Attributes = [KeyValue.String("language", "java")] };
        charge.Links = [new SpanLink(new TraceId(0, 0xA), new SpanId(1), string.Empty, [KeyValue.String("opentracing.ref_type", "child_of")])];
        return
        [
            Make(0xC, 21, 0, frontend, "POST /api/orders", SpanKind.Server, StatusCode.Ok, 0, 1000,
                KeyValue.String("http.method", "GET"), KeyValue.Int("http.status_code", 200), KeyValue.Int("http.request_content_length", 20_971_520)),
            charge,
            Make(0xC, 23, 21, frontend, "render", SpanKind.Internal, StatusCode.Unset, 950, 4, KeyValue.Int("http.status_code", 200)),
        ];
    }
}
