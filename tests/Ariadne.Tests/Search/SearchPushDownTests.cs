using Ariadne.Model;
using Ariadne.Search;

namespace Ariadne.Tests.Search;

/// <summary>What a TraceQL query hands the store (<see cref="SearchQuery.PushDown"/>): a filter every match also passes, as narrow as it can tell.</summary>
public sealed class SearchPushDownTests
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_structural_query_with_an_error_side_fetches_the_error_traces_rather_than_the_services()
    {
        var pushed = SearchQuery.Parse("""{ resource.service.name = "frontend" } >> { status = error }""").PushDown(s_start, s_start.AddHours(1), 5000);

        Assert.Null(pushed.ServiceName);
        Assert.Equal(new Dictionary<string, string> { ["error"] = "true" }, pushed.Tags);
        var failed = new Span { Name = "charge", Resource = new Resource { ServiceName = "payments" }, StatusCode = StatusCode.Error, StartTimeUnixNano = (s_start.AddMinutes(1) - DateTimeOffset.UnixEpoch).Ticks * 100 };
        Assert.True(SpanMatcher.Matches(failed, pushed));
    }

    [Fact]
    public void Service_and_name_of_one_span_filter_are_pushed_down_together_and_status_ok_is_not()
    {
        var pushed = SearchQuery.Parse("""{ resource.service.name = "frontend" && name = "GET /" && status = ok }""").PushDown(s_start, s_start.AddHours(1), 20);

        Assert.Equal("frontend", pushed.ServiceName);
        Assert.Equal("GET /", pushed.OperationName);
        Assert.Empty(pushed.Tags);
    }
}
