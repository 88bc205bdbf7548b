using System.Globalization;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Embedded.Blocks;

namespace Ariadne.Tests.Storage.Embedded;

/// <summary>
/// Deterministic traces for the search-index tests: a few services and operations, attributes of low cardinality
/// (per trace and per span), a high-cardinality one, values of several types, the same key in several attribute lists
/// (span, resource, scope, event, link), error statuses and an <c>error</c> attribute. The checked-in version 2
/// block (<c>Fixtures/block-version-2</c>) holds <c>Traces(seed: 2, count: 300)</c>: do not change what a seed gives.
/// </summary>
internal static class SearchIndexData
{
    public static readonly DateTimeOffset Start = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] s_services = ["frontend", "checkout", "payments"];
    private static readonly string[][] s_operations = [["GET /", "GET /cart", "POST /checkout"], ["quote", "reserve"], ["authorize", "capture", "refund"]];
    private static readonly string[] s_tiers = ["gold", "silver", "bronze"];
    private static readonly string[] s_regions = ["eu", "us"];

    public static List<List<Span>> Traces(int seed, int count)
    {
        var random = new Random(seed);
        var resources = s_services.Select(s => new Resource
        {
            ServiceName = s,
            Attributes = [KeyValue.String("service.name", s), KeyValue.String("deployment", s == "payments" ? "canary" : "stable")],
        }).ToArray();
        InstrumentationScope[] scopes =
        [
            new() { Name = "lib-a", Version = "1.0" },
            new() { Name = "lib-b", Version = "2.0", Attributes = [KeyValue.String("region", "eu")] },
        ];
        var traces = new List<List<Span>>(count);
        for (var t = 0; t < count; t++)
        {
            var traceId = new TraceId((ulong)random.NextInt64(), (ulong)random.NextInt64());
            var start = (Start - DateTimeOffset.UnixEpoch).Ticks * 100 + t * 2_000_000_000L + random.Next(1_000_000_000);
            var tier = s_tiers[random.Next(s_tiers.Length)];
            var spans = new List<Span>();
            var spanCount = random.Next(1, 7);
            for (var i = 0; i < spanCount; i++)
            {
                var service = i == 0 ? 0 : random.Next(s_services.Length);
                var operation = s_operations[service][random.Next(s_operations[service].Length)];
                var spanStart = start + i * 1_000_000L;
                var attributes = new List<KeyValue>
                {
                    KeyValue.String("tier", tier),
                    KeyValue.String("user.id", "user-" + random.Next(500).ToString(CultureInfo.InvariantCulture)),
                    KeyValue.Int("http.status_code", random.Next(10) == 0 ? 500 : 200),
                };
                if (random.Next(3) == 0)
                {
                    attributes.Add(KeyValue.String("region", s_regions[random.Next(s_regions.Length)]));
                }

                if (random.Next(20) == 0)
                {
                    attributes.Add(KeyValue.String("error", "true"));
                }

                if (random.Next(4) == 0)
                {
                    attributes.Add(KeyValue.Bool("cached", random.Next(2) == 0));
                }

                SpanEvent[] events = random.Next(6) == 0 ? [new SpanEvent(spanStart + 10, "retry", [KeyValue.String("region", s_regions[random.Next(2)])], 0)] : [];
                SpanLink[] links = random.Next(8) == 0
                    ? [new SpanLink(new TraceId((ulong)random.NextInt64(), 1), new SpanId(7), string.Empty, [KeyValue.String("tier", s_tiers[random.Next(3)])])]
                    : [];
                spans.Add(new Span
                {
                    TraceId = traceId,
                    SpanId = new SpanId((ulong)random.NextInt64() | 1),
                    ParentSpanId = i == 0 ? default : spans[random.Next(i)].SpanId,
                    Name = operation,
                    Kind = i == 0 ? SpanKind.Server : SpanKind.Internal,
                    StartTimeUnixNano = spanStart,
                    EndTimeUnixNano = spanStart + random.Next(1, 50) * 1_000_000L,
                    StatusCode = random.Next(12) == 0 ? StatusCode.Error : StatusCode.Unset,
                    Attributes = [.. attributes],
                    Events = events,
                    Links = links,
                    Resource = resources[service],
                    Scope = scopes[random.Next(scopes.Length)],
                });
            }

            traces.Add(spans);
        }

        return traces;
    }

    /// <summary>Writes <paramref name="traces"/> as one block in <paramref name="tenantDirectory"/> (in block order) and opens it.</summary>
    public static Block WriteBlock(string tenantDirectory, IEnumerable<List<Span>> traces, int rowGroupSpans)
    {
        using var writer = new BlockWriter(tenantDirectory, "default", new EmbeddedStorageOptions { RowGroupSpans = rowGroupSpans }, TimeProvider.System, DurableFiles.System);
        foreach (var trace in traces.Select(t => (t[0].TraceId, Spans: t.OrderBy(s => s.StartTimeUnixNano).ToList())).OrderBy(t => t, Comparer<(TraceId, List<Span>)>.Create(BlockOrder.Compare)))
        {
            writer.AddTrace(trace.TraceId, trace.Spans);
        }

        writer.Complete();
        return Block.Open(writer.Directory, verifyData: true);
    }

    /// <summary>The trace ids a search of every span by <see cref="SpanMatcher"/> finds, newest first, at most the query's limit.</summary>
    public static List<TraceId> Expected(IEnumerable<List<Span>> traces, TraceQuery query) =>
        traces.SelectMany(t => t)
            .Where(s => SpanMatcher.Matches(s, query))
            .GroupBy(s => s.TraceId)
            .Select(g => (Id: g.Key, Latest: g.Max(s => s.StartTimeUnixNano)))
            .OrderByDescending(t => t.Latest)
            .Take(query.Limit)
            .Select(t => t.Id)
            .ToList();
}
