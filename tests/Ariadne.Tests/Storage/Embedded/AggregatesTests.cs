using Ariadne.Storage.Embedded.Aggregation;

namespace Ariadne.Tests.Storage.Embedded;

public sealed class AggregatesTests
{
    [Fact]
    public void A_trace_with_a_span_at_the_epoch_counts_its_edge_in_the_child_minute_only()
    {
        // A Zipkin span sent without a timestamp starts at 0 (as the Collector maps it); the rest of its trace is now.
        // Edges are bucketed by the minutes that have spans, not by every minute since 1970.
        var now = DateTimeOffset.UtcNow;
        var trace = TestSpans.Trace(now);
        trace[0].EndTimeUnixNano -= trace[0].StartTimeUnixNano;
        trace[0].StartTimeUnixNano = 0;

        var aggregates = new Aggregates();
        aggregates.AddTrace(trace);

        var edge = Assert.Single(aggregates.Edges);
        Assert.Equal(new EdgeKey(Aggregates.MinuteOf(trace[1].StartTimeUnixNano) * 60, "frontend", "backend"), edge.Key);
        Assert.Equal(1, edge.Value.Calls);
    }
}
