using System.Net;
using System.Text.Json;
using Ariadne.Model;
using Ariadne.Tests.Analysis;
using Ariadne.Tests.Ui;
using static Microsoft.Playwright.Assertions;

namespace Ariadne.Tests.Search;

/// <summary>
/// <c>/api/ariadne/search</c> end to end over <see cref="CheckoutTraces"/> (default tenant) and <see cref="ShopTraces"/>.
/// </summary>
public sealed class SearchApiTests(UiFixture fixture) : IClassFixture<UiFixture>
{
    private static readonly string s_slow = CheckoutTraces.Slow.ToHex();

    private async Task<JsonElement> SearchAsync(string q, string tenant = "default", string extra = "&lookback=1h")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/ariadne/search?q=" + Uri.EscapeDataString(q) + extra);
        request.Headers.Add("x-tenant", tenant);
        using var response = await fixture.Server.Query.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement;
    }

    private static List<string> TraceIds(JsonElement result) =>
        result.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("traceId").GetString()!).ToList();

    [Fact]
    public async Task A_failing_gateway_call_with_an_erroring_payments_descendant_finds_the_slow_checkout_only()
    {
        var result = await SearchAsync("{ service = \"gateway\" && http.response.status_code >= 500 } >> { service = \"payments\" && status = error }");
        Assert.Equal([s_slow], TraceIds(result));
        var matched = result.GetProperty("data")[0].GetProperty("matchedSpans").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal([new SpanId(CheckoutTraces.SlowFraud).ToHex()], matched);
        // The error side is the narrower one: its service and the error tag go to the store.
        Assert.Equal("payments", result.GetProperty("pushedDown").GetProperty("service").GetString());
    }

    [Fact]
    public async Task Child_means_direct_child_and_descendant_any_depth()
    {
        // fraud-check's parent is payments' charge, whose parent is orders' create-order.
        Assert.Empty(TraceIds(await SearchAsync("{ service = \"orders\" } > { status = error }")));
        Assert.Equal([s_slow], TraceIds(await SearchAsync("{ service = \"orders\" } >> { status = error }")));
        Assert.Equal([s_slow], TraceIds(await SearchAsync("{ name = \"charge\" } > { status = error }")));
    }

    [Fact]
    public async Task Or_not_and_regex_filter_tags()
    {
        var shop = ShopTraces.Tenant;
        var amexOrDiscover = await SearchAsync("{ payment.method = \"amex\" || payment.method = \"discover\" }", shop, "&lookback=1h&limit=100");
        Assert.Equal(ShopTraces.SlowCount + ShopTraces.ErrorCount, TraceIds(amexOrDiscover).Count);
        var regex = await SearchAsync("{ payment.method =~ \"am.x|disc.*\" }", shop, "&lookback=1h&limit=100");
        Assert.Equal(TraceIds(amexOrDiscover).Order(), TraceIds(regex).Order());
        // Regexes are anchored: "mex" alone does not match amex.
        Assert.Empty(TraceIds(await SearchAsync("{ payment.method =~ \"mex\" }", shop)));
    }

    [Fact]
    public async Task Numeric_and_duration_comparisons_select_by_value()
    {
        var shop = ShopTraces.Tenant;
        var slow = await SearchAsync("{ service = \"orders\" && name = \"POST /checkout\" && duration >= 1s }", shop, "&lookback=1h&limit=100");
        Assert.Equal(ShopTraces.SlowCount, TraceIds(slow).Count);
        Assert.Equal(1_000_000, slow.GetProperty("pushedDown").GetProperty("minDurationMicros").GetInt64());
        var fast = await SearchAsync("{ name = \"POST /checkout\" && duration < 150ms && duration != 100ms }", shop, "&lookback=1h&limit=100");
        Assert.Equal(49, TraceIds(fast).Count);
        // 502 is an int attribute; 499 < 502 <= 502.
        Assert.Equal([s_slow], TraceIds(await SearchAsync("{ http.response.status_code > 499 && http.response.status_code <= 502 }")));
        Assert.Equal([s_slow], TraceIds(await SearchAsync("{ order.value >= 99.5 && cache.hit = false }")));
        Assert.Empty(TraceIds(await SearchAsync("{ http.response.status_code != 502 }")));
    }

    [Fact]
    public async Task Negation_selects_spans_without_the_value_and_spanset_and_needs_both()
    {
        var shop = ShopTraces.Tenant;
        // Gold customers who did not pay with amex: the 10 fast gold ones.
        var gold = await SearchAsync("{ customer.tier = \"gold\" } && { name = \"charge\" && !(payment.method = \"amex\") }", shop, "&lookback=1h&limit=100");
        Assert.Equal(10, TraceIds(gold).Count);
        var all = await SearchAsync("{ resource.host.name = \"orders-1\" } || { resource.host.name = \"orders-2\" }", shop, "&lookback=1h&limit=100");
        Assert.Equal(ShopTraces.Count, TraceIds(all).Count);
        var limited = await SearchAsync("{ }", shop, "&lookback=1h&limit=7");
        Assert.Equal(7, TraceIds(limited).Count);
    }

    [Theory]
    [InlineData("{ service = orders }", 12)]
    [InlineData("{ service = \"orders\"", 20)]
    [InlineData("", 0)]
    [InlineData("{ status = error } | rate() by (name)", 21)]
    public async Task Bad_queries_get_400_with_position_and_message(string q, int position)
    {
        using var response = await fixture.Server.Query.GetAsync("/api/ariadne/search?q=" + Uri.EscapeDataString(q));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(position, json.RootElement.GetProperty("position").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Query_box_puts_the_query_in_the_url_and_shows_errors_with_a_caret()
    {
        var page = await fixture.OpenAsync("search");
        await page.Locator("#query").FillAsync("{ service = \"orders\" } >> { status = error }");
        await page.Locator("#run-query").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("q=%7B"));
        await Expect(page.Locator("#result-count")).ToHaveTextAsync("1 trace");
        await Expect(page.Locator($"article[data-trace-id='{s_slow}']")).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "search-query");

        await page.Locator("#query").FillAsync("{ service = orders }");
        await page.Locator("#run-query").ClickAsync();
        await Expect(page.Locator("#query-error")).ToContainTextAsync("At 12:");
        await Expect(page.Locator("#query-error pre")).ToContainTextAsync("            ^");

        // Reloading the address runs the same query.
        await page.GotoAsync("search?q=" + Uri.EscapeDataString("{ name = \"charge\" } > { status = error }") + "&lookback=1h");
        await Expect(page.Locator("#query")).ToHaveValueAsync("{ name = \"charge\" } > { status = error }");
        await Expect(page.Locator("#result-count")).ToHaveTextAsync("1 trace");
        await page.CloseAsync();
    }
}
