using System.Net;
using System.Text.Json;
using Ariadne.Tests.Ui;
using static Microsoft.Playwright.Assertions;

namespace Ariadne.Tests.Analysis;

/// <summary>Bottleneck analysis over <see cref="ShopTraces"/>, where the attribute values and the slow call are known.</summary>
public sealed class BottleneckApiTests(UiFixture fixture) : IClassFixture<UiFixture>
{
    private async Task<JsonElement> GetAsync(string query)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/ariadne/bottlenecks?" + query);
        request.Headers.Add("x-tenant", ShopTraces.Tenant);
        using var response = await fixture.Server.Query.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private static JsonElement Value(JsonElement report, string key, string value) =>
        report.GetProperty("attributes").EnumerateArray().Single(a => a.GetProperty("key").GetString() == key)
            .GetProperty("values").EnumerateArray().Single(v => v.GetProperty("value").GetString() == value);

    [Fact]
    public async Task Slow_checkouts_are_set_apart_by_payment_method_then_customer_tier_above_the_p90()
    {
        var report = await GetAsync("service=orders&operation=POST%20%2Fcheckout&lookback=1h");
        Assert.Equal(ShopTraces.Count, report.GetProperty("tracesExamined").GetInt32());
        Assert.Equal(189_000, report.GetProperty("thresholdMicros").GetInt64());
        Assert.Equal(ShopTraces.SlowCount, report.GetProperty("selected").GetInt32());
        Assert.Equal(ShopTraces.Count - ShopTraces.SlowCount, report.GetProperty("baseline").GetInt32());

        var keys = report.GetProperty("attributes").EnumerateArray().Select(a => a.GetProperty("key").GetString()).ToList();
        Assert.Equal(["payment.method", "customer.tier"], keys.Take(2));

        var amex = Value(report, "payment.method", "amex");
        Assert.Equal(10, amex.GetProperty("selected").GetInt32());
        Assert.Equal(0, amex.GetProperty("baseline").GetInt32());
        Assert.Equal(1.0, amex.GetProperty("difference").GetDouble(), 6);

        var gold = Value(report, "customer.tier", "gold");
        Assert.Equal(10, gold.GetProperty("selected").GetInt32());
        Assert.Equal(10, gold.GetProperty("baseline").GetInt32());
        Assert.Equal(1.0 - 10.0 / 90, gold.GetProperty("difference").GetDouble(), 6);

        // One order id per trace explains nothing and is left out.
        Assert.DoesNotContain("order.id", keys);

        // Present everywhere or split evenly: nothing to see.
        Assert.Equal(0, Value(report, "db.system", "postgresql").GetProperty("difference").GetDouble(), 6);
        Assert.True(Math.Abs(Value(report, "host.name", "orders-1").GetProperty("difference").GetDouble()) < 0.1);
    }

    [Fact]
    public async Task Slow_checkouts_spend_their_time_in_payments_charge_on_the_critical_path()
    {
        var report = await GetAsync("service=orders&operation=POST%20%2Fcheckout&lookback=1h");
        var top = report.GetProperty("contributors").EnumerateArray().First();
        Assert.Equal("payments", top.GetProperty("service").GetString());
        Assert.Equal("charge", top.GetProperty("operation").GetString());
        Assert.Equal(900_000, top.GetProperty("selectedMeanMicros").GetInt64());
        Assert.Equal(40_000, top.GetProperty("baselineMeanMicros").GetInt64());
        Assert.Equal(860_000, top.GetProperty("excessMicros").GetInt64());
    }

    [Fact]
    public async Task An_explicit_threshold_and_the_error_selection_change_what_is_compared()
    {
        var all = await GetAsync("service=orders&operation=POST%20%2Fcheckout&lookback=1h&threshold=2s");
        Assert.Equal(0, all.GetProperty("selected").GetInt32());

        var errors = await GetAsync("service=orders&lookback=1h&selection=errors");
        Assert.Equal(ShopTraces.ErrorCount, errors.GetProperty("selected").GetInt32());
        var top = errors.GetProperty("attributes")[0];
        Assert.Equal("payment.method", top.GetProperty("key").GetString());
        Assert.Equal("discover", top.GetProperty("values")[0].GetProperty("value").GetString());
    }

    [Theory]
    [InlineData("lookback=1h", "Name the service")]
    [InlineData("service=orders&threshold=fast", "not a threshold")]
    [InlineData("service=orders&selection=cheap", "not a selection")]
    [InlineData("service=orders&lookback=soon", "not a lookback")]
    public async Task Bad_parameters_get_400_with_what_to_do(string query, string message)
    {
        using var response = await fixture.Server.Query.GetAsync("/api/ariadne/bottlenecks?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Bottleneck_page_ranks_the_values_of_slow_checkouts_and_is_linked_from_the_overview()
    {
        var page = await fixture.OpenAsync("services?service=orders&lookback=1h", tenant: ShopTraces.Tenant);
        await page.Locator("tr[data-operation='POST /checkout'] a.bottleneck-link").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("bottlenecks\\?service=orders&operation=POST%20%2Fcheckout"));
        await Expect(page.Locator("#bn-summary")).ToContainTextAsync("10 of 100 traces took longer than 189ms");
        var rows = page.Locator("#bn-attributes tbody tr");
        await Expect(rows.First).ToHaveAttributeAsync("data-key", "payment.method");
        await Expect(rows.First).ToHaveAttributeAsync("data-value", "amex");
        await Expect(page.Locator("#bn-attributes tr[data-key='customer.tier'][data-value='gold']")).ToContainTextAsync("10 (100%)");
        await Expect(page.Locator("#bn-contributors tbody tr").First).ToHaveAttributeAsync("data-operation", "charge");
        await fixture.ScreenshotAsync(page, "bottlenecks");

        // Switching to errors puts the failing card type on top.
        await page.Locator("#bn-selection").SelectOptionAsync("errors");
        await page.Locator("#bn-analyse").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("selection=errors"));
        await Expect(page.Locator("#bn-attributes tbody tr").First).ToHaveAttributeAsync("data-value", "discover");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Search_results_link_to_the_bottleneck_analysis_of_the_searched_operation()
    {
        var page = await fixture.OpenAsync("search?service=orders&operation=POST%20%2Fcheckout&lookback=1h&minDuration=500ms", tenant: ShopTraces.Tenant);
        await Expect(page.Locator("#result-count")).ToHaveTextAsync("10 traces");
        await page.Locator("#analyse-bottlenecks").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("bottlenecks\\?service=orders.*threshold=500ms"));
        await Expect(page.Locator("#bn-summary")).ToContainTextAsync("10 of 100 traces took longer than 500ms");
        await page.CloseAsync();
    }
}
