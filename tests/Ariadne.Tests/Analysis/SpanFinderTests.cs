using Ariadne.Analysis;
using Ariadne.Tests.Ui;

namespace Ariadne.Tests.Analysis;

public sealed class SpanFinderTests
{
    private readonly TraceTree _slow = TraceTree.Build(new CheckoutTraces(DateTimeOffset.UtcNow).SlowCheckout());

    private string[] Find(string query) => SpanFinder.Find(_slow, query).Select(i => _slow.Nodes[i].Span.Name).ToArray();

    [Fact]
    public void Every_word_must_appear_in_the_span_ignoring_case()
    {
        Assert.Equal(["charge", "fraud-check"], Find("PAYMENTS"));
        Assert.Equal(["fraud-check"], Find("payments declined"));
        Assert.Empty(Find("payments inventory"));
    }

    [Fact]
    public void Attributes_match_as_key_equals_value_and_ids_and_events_match_too()
    {
        Assert.Equal(["POST /checkout"], Find("order.id=ord-1001"));
        Assert.Equal(["POST /checkout"], Find("http.response.status_code=502"));
        Assert.Equal(["fraud-check"], Find("CardDeclinedException"));
        var charge = _slow.Nodes.Single(n => n.Span.Name == "charge").Span.SpanId.ToHex();
        Assert.Equal(["charge"], Find(charge));
    }

    [Fact]
    public void A_blank_query_matches_nothing()
    {
        Assert.Empty(Find("   "));
        Assert.Empty(SpanFinder.Find(_slow, null));
    }
}
