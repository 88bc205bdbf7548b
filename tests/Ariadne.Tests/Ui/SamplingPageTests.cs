using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Sampling;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ariadne.Tests.Ui;

/// <summary>The Sampling page of a server with tail-sampling policies, in Chromium.</summary>
public sealed class SamplingPageTests(UiFixture ui, TailServerFixture server) : IClassFixture<UiFixture>, IClassFixture<TailServerFixture>
{
    private const string Tenant = "sampling-page";

    [Fact]
    public async Task Sampling_page_shows_the_policies_and_what_tail_sampling_kept_and_dropped_per_root_operation()
    {
        var data = new SamplingTestData(23);
        var failed = data.Root("checkout-api", "POST /checkout", status: StatusCode.Error);
        await server.IngestAsync(Tenant, failed);
        await server.IngestAsync(Tenant, data.Root("checkout-api", "POST /checkout"));
        await server.IngestAsync(Tenant, data.Root("checkout-api", "POST /checkout"));
        await Poll.UntilAsync(async () => await server.StoredSpansAsync(Tenant, failed.TraceId) == 1, "the error trace to be kept");

        var browser = await ui.GetBrowserAsync();
        var page = await browser.NewPageAsync(new BrowserNewPageOptions
        {
            BaseURL = server.Server.GetUri(Listener.Query).ToString(),
            ExtraHTTPHeaders = new Dictionary<string, string> { ["x-tenant"] = Tenant },
        });
        // The same path as the sampling port's remote-sampling endpoint: routing tells them apart by listener.
        await page.GotoAsync("sampling");
        await UiFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator("#tail-state")).ToHaveTextAsync("on");
        await Expect(page.Locator("#tail-policies")).ToContainTextAsync("errors (always), slow, checkout-slow, payment, gold, big-order, rest");

        // The two dropped traces are decided after the kept one: refresh until all three are counted.
        var row = page.Locator("#sampling-table tr[data-service='checkout-api'][data-operation='POST /checkout']");
        await Poll.UntilAsync(async () =>
        {
            await page.Locator("#sampling-refresh").ClickAsync();
            return await row.Locator("td.dropped").CountAsync() == 1 && await row.Locator("td.dropped").TextContentAsync() == "2";
        }, "both dropped traces to be counted");
        await Expect(row.Locator("td.kept")).ToHaveTextAsync("1");
        await Expect(row.Locator(".badge[data-policy='errors']")).ToHaveTextAsync("errors 1");
        await ui.ScreenshotAsync(page, "sampling");
        await page.CloseAsync();
    }
}
