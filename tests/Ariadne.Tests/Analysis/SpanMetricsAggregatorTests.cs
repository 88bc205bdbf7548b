using Ariadne.Analysis;
using Ariadne.Model;
using Prometheus;

namespace Ariadne.Tests.Analysis;

public sealed class SpanMetricsAggregatorTests
{
    [Fact]
    public async Task The_duration_histogram_carries_a_trace_id_exemplar_of_one_of_its_spans()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new SpanMetricsAggregator(registry);
        var resource = new Resource { ServiceName = "orders" };
        var spans = Enumerable.Range(1, 50).Select(i => new Span
        {
            TraceId = new TraceId(0xabc, (ulong)i), SpanId = new SpanId((ulong)i), Name = "POST /checkout", Kind = SpanKind.Server, Resource = resource,
            StartTimeUnixNano = 1_000_000_000, EndTimeUnixNano = 1_000_000_000 + 30_000_000,
        }).ToList();
        metrics.Observe("shop", spans);

        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream, ExpositionFormat.OpenMetricsText);
        var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        var exemplars = text.Split('\n').Where(l => l.StartsWith("traces_spanmetrics_latency_bucket", StringComparison.Ordinal) && l.Contains(" # {", StringComparison.Ordinal)).ToList();

        // One exemplar per series per 10 s: the first span's trace, on the bucket its 30 ms duration fell in.
        var exemplar = Assert.Single(exemplars);
        Assert.Contains("le=\"0.05\"", exemplar, StringComparison.Ordinal);
        Assert.Contains($"trace_id=\"{new TraceId(0xabc, 1).ToHex()}\"", exemplar, StringComparison.Ordinal);
        Assert.DoesNotContain(text.Split('\n'), l => l.StartsWith("traces_spanmetrics_calls_total", StringComparison.Ordinal) && l.Contains(" # {", StringComparison.Ordinal));
    }
}
