using Ariadne.Analysis;
using Ariadne.Model;

namespace Ariadne.Tests.Analysis;

public sealed class TraceTreeTests
{
    private static readonly Resource s_web = new() { ServiceName = "web" };
    private static readonly Resource s_api = new() { ServiceName = "api" };

    private static Span Make(ulong id, ulong parent, SpanKind kind, Resource resource, long start, long end) => new()
    {
        TraceId = new TraceId(1, 1), SpanId = new SpanId(id), ParentSpanId = new SpanId(parent), Name = $"{resource.ServiceName} {kind}",
        Kind = kind, StartTimeUnixNano = start, EndTimeUnixNano = end, Resource = resource,
    };

    [Fact]
    public void A_zipkin_shared_span_shows_both_halves_with_the_server_half_under_the_client_half()
    {
        // Zipkin's shared span: web's client call and api's server handling carry span id 2; api's query is its child.
        var tree = TraceTree.Build(
        [
            Make(1, 0, SpanKind.Server, s_web, 0, 100),
            Make(2, 1, SpanKind.Client, s_web, 10, 90),
            Make(2, 1, SpanKind.Server, s_api, 15, 85),
            Make(3, 2, SpanKind.Client, s_api, 20, 60),
        ]);

        Assert.Equal(["web Server", "web Client", "api Server", "api Client"], tree.Nodes.Select(n => n.Span.Name));
        Assert.Equal([0, 1, 2, 3], tree.Nodes.Select(n => n.Depth));
        Assert.Equal("api Server", tree.Find(new SpanId(2))!.Span.Name);
        Assert.Equal(2, tree.Services.Single(s => s.Service == "api").Spans);
    }

    [Fact]
    public void A_resent_copy_of_a_span_is_shown_once()
    {
        var tree = TraceTree.Build(
        [
            Make(1, 0, SpanKind.Server, s_web, 0, 100),
            Make(2, 1, SpanKind.Client, s_web, 10, 90),
            Make(2, 1, SpanKind.Client, s_web, 10, 90),
        ]);

        Assert.Equal(2, tree.Nodes.Count);
    }
}
