using Ariadne.LoadGen;
using Ariadne.Model;
using Google.Protobuf;

namespace Ariadne.Tests.LoadGen;

public sealed class SyntheticTraceTests
{
    private static readonly long s_now = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;

    [Fact]
    public void Traces_have_the_shop_shape_sizes_attributes_and_some_errors()
    {
        var generator = new SyntheticTraces(seed: 7, s_now);
        var traces = Enumerable.Range(0, 2000).Select(_ => generator.Next()).ToList();

        Assert.All(traces, trace =>
        {
            Assert.InRange(trace.Count, 5, 20);
            Assert.Single(trace, s => s.IsRoot);
            var root = trace.Single(s => s.IsRoot);
            Assert.Equal("gateway", root.ServiceName);
            Assert.Equal(SpanKind.Server, root.Kind);
            var ids = trace.Select(s => s.SpanId).ToHashSet();
            Assert.Equal(trace.Count, ids.Count);
            Assert.All(trace, span =>
            {
                Assert.Equal(root.TraceId, span.TraceId);
                Assert.True(span.IsRoot || ids.Contains(span.ParentSpanId));
                Assert.True(span.EndTimeUnixNano > span.StartTimeUnixNano);
                Assert.InRange(span.Attributes.Length, 7, 14);
                Assert.True(span.TryGetAttribute("user.id", out _));
                Assert.True(span.TryGetAttribute("customer.tier", out _));
            });
        });

        var spans = traces.SelectMany(t => t).ToList();
        Assert.Equal(SyntheticTraces.Services.Order(StringComparer.Ordinal), spans.Select(s => s.ServiceName).Distinct().Order(StringComparer.Ordinal));
        Assert.InRange(spans.Average(s => s.Attributes.Length), 9, 12);
        foreach (var prefix in new[] { "http.", "rpc.", "db.", "messaging." })
        {
            Assert.Contains(spans, s => s.Attributes.Any(a => a.Key.StartsWith(prefix, StringComparison.Ordinal)));
        }

        Assert.Contains(spans, s => s.TryGetAttribute("order.id", out _));
        var errorTraces = traces.Count(t => t.Any(s => s.IsError));
        Assert.InRange(errorTraces, 20, 400);
        Assert.Contains(spans, s => s.IsError && s.Events.Any(e => e.Name == "exception"));
        Assert.All(spans, s => Assert.Contains(s.Resource.Attributes, a => a.Key == "service.name" && a.Value.AsString == s.ServiceName));

        // Log-normal latencies: a long tail, the slowest far above the median.
        var durations = spans.Where(s => s.Name.StartsWith("SELECT", StringComparison.Ordinal)).Select(s => s.DurationNanos).Order().ToList();
        Assert.True(durations[^1] > 5 * durations[durations.Count / 2]);
    }

    [Fact]
    public void Stamping_a_payload_gives_every_trace_a_fresh_id_and_moves_every_timestamp()
    {
        var prepared = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);
        var payloads = LoadGenerator.Prepare(new LoadGenOptions { Target = new Uri("http://localhost:4317"), SpansPerRequest = 200, Payloads = 2 }, prepared);
        var payload = payloads[0];
        Assert.True(payload.SpanCount >= 200);

        var template = ReadSpans(payload.Template.ToArray());
        Assert.Equal(payload.SpanCount, template.Count);
        Assert.Equal(payload.TraceCount, template.Select(s => s.TraceId).Distinct().Count());

        var buffer = new byte[payload.Length];
        var next = 0UL;
        var shift = 3_600_000_000_000L;
        var stampedLength = payload.Stamp(buffer, (prepared.ToUnixTimeMilliseconds() * 1_000_000) + shift, () => new TraceId(0xA1, ++next));
        var stamped = ReadSpans(buffer[..stampedLength]);

        Assert.Equal(template.Count, stamped.Count);
        Assert.Equal(payload.TraceCount, stamped.Select(s => s.TraceId).Distinct().Count());
        Assert.All(stamped, s => Assert.Equal(0xA1UL, s.TraceId.High));
        for (var i = 0; i < template.Count; i++)
        {
            Assert.Equal(template[i].SpanId, stamped[i].SpanId);
            Assert.Equal(template[i].Start + shift, stamped[i].Start);
            Assert.Equal(template[i].End + shift, stamped[i].End);
        }

        // Spans of one template trace still share one (new) trace id.
        var byTemplateTrace = template.Zip(stamped).GroupBy(p => p.First.TraceId);
        Assert.All(byTemplateTrace, g => Assert.Single(g.Select(p => p.Second.TraceId).Distinct()));
    }

    private sealed record EncodedSpan(TraceId TraceId, SpanId SpanId, long Start, long End);

    /// <summary>
    /// Walks ExportTraceServiceRequest → resource_spans(1) → scope_spans(2) → spans(2) with Google.Protobuf's reader,
    /// independently of the writer under test.
    /// </summary>
    private static List<EncodedSpan> ReadSpans(byte[] request)
    {
        var spans = new List<EncodedSpan>();
        foreach (var resourceSpans in Fields(request, 1))
        {
            foreach (var scopeSpans in Fields(resourceSpans, 2))
            {
                foreach (var span in Fields(scopeSpans, 2))
                {
                    var input = new CodedInputStream(span);
                    TraceId traceId = default;
                    SpanId spanId = default;
                    long start = 0, end = 0;
                    uint tag;
                    while ((tag = input.ReadTag()) != 0)
                    {
                        switch (WireFormat.GetTagFieldNumber(tag))
                        {
                            case 1:
                                traceId = TraceId.FromBytes(input.ReadBytes().Span);
                                break;
                            case 2:
                                spanId = SpanId.FromBytes(input.ReadBytes().Span);
                                break;
                            case 7:
                                start = (long)input.ReadFixed64();
                                break;
                            case 8:
                                end = (long)input.ReadFixed64();
                                break;
                            default:
                                input.SkipLastField();
                                break;
                        }
                    }

                    spans.Add(new EncodedSpan(traceId, spanId, start, end));
                }
            }
        }

        return spans;
    }

    private static IEnumerable<byte[]> Fields(byte[] message, int field)
    {
        var input = new CodedInputStream(message);
        var found = new List<byte[]>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                found.Add(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }

        return found;
    }
}
