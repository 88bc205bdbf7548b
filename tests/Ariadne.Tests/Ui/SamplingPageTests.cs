using Ariadne.Model;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Sampling;
using static Microsoft.Playwright.Assertions;

namespace Ariadne.Tests.Ui;

/// <summary>The Sampling page of a server with tail-sampling policies, in Chromium.</summary>
public sealed class SamplingPageTests(UiFixture ui, TailServerFixture server) : IClassFixture<UiFixture>, IClassFixture<TailServerFixture>
{
    private const string Tenant = "sampling-page";
    private const string DroppedTenant = "dropped-trace";

    [Fact]
    public async Task Sampling_page_shows_the_policies_and_what_tail_sampling_kept_and_dropped_per_root_operation()
    {
        var data = new SamplingTestData(23);
        var failed = data.Root("checkout-api", "POST /checkout", status: StatusCode.Error);
        await server.IngestAsync(Tenant, failed);
        await server.IngestAsync(Tenant, data.Root("checkout-api", "POST /checkout"));
        await server.IngestAsync(Tenant, data.Root("checkout-api", "POST /checkout"));
        await Poll.UntilAsync(async () => await server.StoredSpansAsync(Tenant, failed.TraceId) == 1, "the error trace to be kept");

        // The same path as the sampling port's remote-sampling endpoint: routing tells them apart by listener.
        var page = await ui.OpenAsync("sampling", tenant: Tenant, on: server);
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

    [Fact]
    public async Task A_trace_that_tail_sampling_dropped_says_so_instead_of_not_found()
    {
        var data = new SamplingTestData(29);
        var failed = data.Root("checkout-api", "POST /checkout", status: StatusCode.Error);
        var dropped = data.Root("checkout-api", "POST /checkout");
        await server.IngestAsync(DroppedTenant, dropped, failed);
        await Poll.UntilAsync(async () => await server.StoredSpansAsync(DroppedTenant, failed.TraceId) == 1, "the decisions");

        var page = await ui.OpenAsync($"trace/{dropped.TraceId.ToHex()}", tenant: DroppedTenant, on: server);
        await Expect(page.Locator("#trace-missing")).ToContainTextAsync("dropped by tail sampling");
        await page.GotoAsync($"trace/{TestSpans.NewTraceId().ToHex()}");
        await Expect(page.Locator("#trace-missing")).ToContainTextAsync("No trace");
        await page.CloseAsync();
    }
}
