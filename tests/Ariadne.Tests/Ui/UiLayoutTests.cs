using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ariadne.Tests.Ui;

/// <summary>
/// Layout facts measured in Chromium (nothing overflows, labels clear the curves, the first HTML already holds the
/// trace) and the UTC/local switch. The screenshots named here are the ones docs/screenshots keeps for issue 17.
/// </summary>
public sealed class UiLayoutTests(UiFixture fixture) : IClassFixture<UiFixture>
{
    private static readonly string s_slow = CheckoutTraces.Slow.ToHex();

    [Fact]
    public async Task Bottlenecks_page_at_1440_px_with_long_names_fits_the_window_with_every_column_in_its_panel()
    {
        await SendAsync(LongNameTraces.CheckoutTenant, new LongNameTraces(DateTimeOffset.UtcNow).Checkouts());
        var page = await fixture.OpenAsync("bottlenecks?service=gateway&lookback=1h", width: 1440, height: 900, tenant: LongNameTraces.CheckoutTenant);
        await Expect(page.Locator("#bn-summary")).ToContainTextAsync("4 of 40 traces");
        await Expect(page.Locator($"#bn-contributors tr[data-operation='{LongNameTraces.InventoryOperation}']")).ToHaveCountAsync(1);

        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways at 1440 px");
        foreach (var table in new[] { "#bn-attributes", "#bn-contributors" })
        {
            // Every header cell lies inside the table's panel and has room for its whole text.
            var problems = await page.EvaluateAsync<string[]>(WithFits("""
                id => {
                    const table = document.querySelector(id);
                    const panel = table.closest('.panel').getBoundingClientRect();
                    return [...table.querySelectorAll('th')].flatMap(th => {
                        const box = th.getBoundingClientRect();
                        const out = [];
                        if (box.left < panel.left - 0.5 || box.right > panel.right + 0.5) out.push(`${th.textContent} sticks out of its panel`);
                        if (!fits(th)) out.push(`${th.textContent} is cut`);
                        return out;
                    });
                }
                """), table);
            Assert.Empty(problems);
        }

        var panels = await page.EvaluateAsync<double[]>("() => [...document.querySelectorAll('.bn-layout > .panel')].flatMap(p => [p.getBoundingClientRect().left, p.getBoundingClientRect().right])");
        Assert.True(panels[1] <= panels[2], "the attribute panel runs under the critical-path panel");

        // A name too long for its cell ends in an ellipsis and keeps the whole name in its tooltip.
        var operation = page.Locator($"#bn-contributors tr[data-operation='{LongNameTraces.InventoryOperation}'] td").Nth(1);
        await Expect(operation).ToHaveAttributeAsync("title", LongNameTraces.InventoryOperation);
        Assert.True(await operation.EvaluateAsync<bool>(WithFits("td => !fits(td) && getComputedStyle(td).textOverflow === 'ellipsis'")));
        await fixture.ScreenshotAsync(page, "bottlenecks-1440-long-names");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Service_map_labels_clear_every_curve_arrowhead_service_and_other_label()
    {
        await SendAsync(LongNameTraces.MeshTenant, new LongNameTraces(DateTimeOffset.UtcNow).Mesh());
        var page = await fixture.OpenAsync("dependencies?lookback=1h", width: 1440, height: 900, tenant: LongNameTraces.MeshTenant);
        var map = page.Locator("#service-map");
        await Expect(map.Locator("g.edge")).ToHaveCountAsync(8);
        await Expect(map.Locator("g.edge-label[data-parent='payments'][data-child='card-network']")).ToHaveTextAsync("30 · 26.7% err");

        // In the SVG's own units: each label's box against the stroke of every curve (sampled every 2 units), the
        // triangle of every arrowhead, every service's box and every other label.
        var problems = await map.EvaluateAsync<string[]>("""
            svg => {
                const labels = [...svg.querySelectorAll('g.edge-label')].map(g => ({ name: `${g.dataset.parent}→${g.dataset.child} label`, box: g.querySelector('text').getBBox() }));
                const inside = (b, x, y, r) => {
                    const dx = x - Math.max(b.x, Math.min(x, b.x + b.width)), dy = y - Math.max(b.y, Math.min(y, b.y + b.height));
                    return dx * dx + dy * dy < r * r;
                };
                const out = [];
                for (const path of svg.querySelectorAll('g.edge path')) {
                    const g = path.closest('g.edge'), name = `${g.dataset.parent}→${g.dataset.child}`;
                    const width = parseFloat(path.getAttribute('stroke-width')), length = path.getTotalLength();
                    const ink = [];
                    for (let l = 0; l <= length; l += 2) { const p = path.getPointAtLength(l); ink.push([p.x, p.y, width / 2]); }
                    // The arrowhead: 7 stroke widths long and wide, tip at the end of the path.
                    const tip = path.getPointAtLength(length), back = path.getPointAtLength(Math.max(0, length - 1));
                    const n = Math.hypot(tip.x - back.x, tip.y - back.y) || 1, ux = (tip.x - back.x) / n, uy = (tip.y - back.y) / n, a = 7 * width;
                    for (let i = 0; i <= 10; i++) for (let j = -i; j <= i; j += 1) ink.push([tip.x - ux * a * i / 10 - uy * a * j / 20, tip.y - uy * a * i / 10 + ux * a * j / 20, 0]);
                    for (const label of labels) {
                        if (ink.some(([x, y, r]) => inside(label.box, x, y, Math.max(r, 0.01)))) out.push(`${label.name} crosses the curve or arrowhead of ${name}`);
                    }
                }
                for (const node of svg.querySelectorAll('g.node')) {
                    const m = /translate\(([-\d.]+),([-\d.]+)\)/.exec(node.getAttribute('transform'));
                    const rect = node.querySelector('rect.box'), x = +m[1], y = +m[2], w = +rect.getAttribute('width'), h = +rect.getAttribute('height');
                    for (const label of labels) {
                        const b = label.box;
                        if (b.x < x + w && x < b.x + b.width && b.y < y + h && y < b.y + b.height) out.push(`${label.name} covers ${node.dataset.service}`);
                    }
                }
                labels.forEach((p, i) => labels.slice(i + 1).forEach(q => {
                    const a = p.box, b = q.box;
                    if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) out.push(`${p.name} overlaps ${q.name}`);
                }));
                const view = svg.viewBox.baseVal;
                for (const label of labels) {
                    const b = label.box;
                    if (b.x < view.x || b.y < view.y || b.x + b.width > view.x + view.width || b.y + b.height > view.y + view.height) out.push(`${label.name} is outside the map`);
                }
                return out;
            }
            """);
        await fixture.ScreenshotAsync(page, "service-map-labels");
        Assert.Empty(problems);
        await page.CloseAsync();
    }

    [Fact]
    public async Task Trace_page_holds_the_rows_in_view_in_its_first_html_and_shows_them_without_javascript()
    {
        // The first HTML response, as a slow connection or a crawler gets it before any script runs.
        var html = await fixture.Server.Query.GetStringAsync($"trace/{s_slow}");
        Assert.Equal(7, Regex.Count(html, "class=\"span-row "));
        Assert.Contains("data-operation=\"fraud-check\"", html, StringComparison.Ordinal);

        var browser = await fixture.GetBrowserAsync();
        var page = await browser.NewPageAsync(new BrowserNewPageOptions
        {
            BaseURL = fixture.BaseUri.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            JavaScriptEnabled = false,
        });
        await page.GotoAsync($"trace/{s_slow}");
        await Expect(page.Locator(".app[data-interactive=false]")).ToHaveCountAsync(1);
        await Expect(page.Locator(".span-row")).ToHaveCountAsync(7);
        await Expect(page.Locator(".span-row.is-error")).ToHaveAttributeAsync("data-operation", "fraud-check");
        await Expect(page.Locator(".span-row").First).ToBeInViewportAsync();
        await fixture.ScreenshotAsync(page, "trace-without-javascript");

        // A trace longer than a window: the first screens of rows, and a line saying where the rest is.
        var id = new TraceId(0x20_000, 0x20_000);
        await fixture.Server.Server.Services.GetRequiredService<ISpanStore>().AppendAsync("bulk", CheckoutTraces.Large(id, 500, fixture.Traces.Base), CancellationToken.None);
        await page.SetExtraHTTPHeadersAsync(new Dictionary<string, string> { ["x-tenant"] = "bulk" });
        await page.GotoAsync($"trace/{id.ToHex()}");
        await Expect(page.Locator(".span-row")).ToHaveCountAsync(60);
        await Expect(page.Locator("#wf-more")).ToContainTextAsync("The first 60 of 500 spans");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Times_follow_the_utc_local_switch_on_every_page_and_the_choice_is_remembered()
    {
        // India: +05:30 all year, so the expected text does not depend on the date.
        var page = await fixture.OpenAsync("search?service=gateway&operation=POST%20%2Fcheckout&lookback=1h", timeZone: "Asia/Kolkata");
        await Expect(page.Locator("#result-count")).ToHaveTextAsync("3 traces");
        var time = page.Locator("article[data-trace-id] time.local-time").First;
        var utc = DateTimeOffset.Parse(await time.GetAttributeAsync("datetime") ?? string.Empty, CultureInfo.InvariantCulture);
        await Expect(time).ToHaveTextAsync(Text(utc, TimeSpan.FromHours(5.5), " UTC+05:30"));
        await Expect(page.Locator("[data-time-zone-choice=local]")).ToHaveAttributeAsync("aria-pressed", "true");

        await page.Locator("[data-time-zone-choice=utc]").ClickAsync();
        await Expect(time).ToHaveTextAsync(Text(utc, TimeSpan.Zero, " UTC"));
        await Expect(time).ToHaveAttributeAsync("title", Text(utc, TimeSpan.FromHours(5.5), " UTC+05:30"));
        await Expect(page.Locator("[data-time-zone-choice=utc]")).ToHaveAttributeAsync("aria-pressed", "true");

        // Another page, loaded afresh: the choice was kept.
        await page.GotoAsync($"trace/{s_slow}");
        await UiFixture.WaitInteractiveAsync(page);
        var start = page.Locator("#trace-stats time.local-time");
        var traceStart = DateTimeOffset.Parse(await start.GetAttributeAsync("datetime") ?? string.Empty, CultureInfo.InvariantCulture);
        await Expect(start).ToHaveTextAsync(Text(traceStart, TimeSpan.Zero, " UTC"));

        // A span's start in its details, rendered after the switch was set, follows it too; and back to local.
        await page.Locator(".span-row[data-operation='charge']").ClickAsync();
        await Expect(page.Locator("#span-details time.local-time")).ToHaveTextAsync(new Regex(@" UTC$"));
        await page.Locator("[data-time-zone-choice=local]").ClickAsync();
        await Expect(start).ToHaveTextAsync(Text(traceStart, TimeSpan.FromHours(5.5), " UTC+05:30"));
        await Expect(page.Locator("#span-details time.local-time")).ToHaveTextAsync(new Regex(@" UTC\+05:30$"));
        Assert.Equal("local", await page.EvaluateAsync<string>("() => localStorage.getItem('ariadne.timeZone')"));
        await page.CloseAsync();
    }

    /// <summary>Issue 17: the prerendered rows stay on screen while the page goes live; no "Loading trace…" in between.</summary>
    [Fact]
    public async Task The_trace_page_goes_live_without_showing_loading_in_between()
    {
        var page = await fixture.OpenAsync("search");
        await page.AddInitScriptAsync("""
            window.loadingSeen = false;
            new MutationObserver(() => { if (document.querySelector('.loading')) window.loadingSeen = true; })
                .observe(document, { subtree: true, childList: true });
            """);
        await page.GotoAsync($"trace/{s_slow}");
        await UiFixture.WaitInteractiveAsync(page);
        await Expect(page.Locator(".span-row[data-operation='charge']")).ToBeVisibleAsync();
        await page.Locator(".span-row[data-operation='charge']").ClickAsync();
        await Expect(page.Locator("#span-details")).ToBeVisibleAsync();
        Assert.False(await page.EvaluateAsync<bool>("() => window.loadingSeen"), "the trace page showed 'Loading trace…' on its way from the prerendered rows to the live page");
        await page.CloseAsync();
    }

    [Fact]
    public async Task The_search_pages_custom_range_is_shown_and_typed_in_the_chosen_time_zone()
    {
        // Seconds that are not zero: Chromium shows a datetime-local value without its ":00".
        var start = new DateTimeOffset(2026, 3, 1, 10, 0, 5, TimeSpan.Zero);
        static long Micros(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks / 10;
        var page = await fixture.OpenAsync($"search?service=gateway&lookback=custom&start={Micros(start)}&end={Micros(start.AddHours(2))}", timeZone: "Asia/Kolkata");
        var from = page.Locator("#from");
        var zone = page.Locator("label:has(#from) .time-zone-name");
        await Expect(from).ToHaveValueAsync("2026-03-01T15:30:05");
        await Expect(zone).ToHaveTextAsync("UTC+05:30");
        await Expect(page.Locator("#to")).ToHaveValueAsync("2026-03-01T17:30:05");

        await page.Locator("[data-time-zone-choice=utc]").ClickAsync();
        await Expect(from).ToHaveValueAsync("2026-03-01T10:00:05");
        await Expect(zone).ToHaveTextAsync("UTC");

        // Typed in local time, sent to the server in UTC: 12:00 in India is 06:30 UTC.
        await page.Locator("[data-time-zone-choice=local]").ClickAsync();
        await Expect(from).ToHaveValueAsync("2026-03-01T15:30:05");
        await from.FillAsync("2026-03-01T12:00:07");
        await page.Locator("#find-traces").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"start={Micros(new DateTimeOffset(2026, 3, 1, 6, 30, 7, TimeSpan.Zero))}"));
        await Expect(from).ToHaveValueAsync("2026-03-01T12:00:07");
        await page.CloseAsync();
    }

    /// <summary>
    /// <paramref name="function"/> with fits(cell) in scope: whether the cell's text, measured in the cell's font, fits
    /// its content box (an ellipsis is painted over text that does not; scrollWidth does not report it for table cells).
    /// </summary>
    private static string WithFits(string function) => $$"""
        arg => {
            const fits = cell => {
                const style = getComputedStyle(cell);
                const context = document.createElement('canvas').getContext('2d');
                context.font = style.font;
                const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
                return context.measureText(cell.textContent.trim()).width <= room + 0.5;
            };
            return ({{function}})(arg);
        }
        """;

    private static string Text(DateTimeOffset utc, TimeSpan offset, string zone) =>
        utc.ToOffset(offset).ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + zone;

    private async Task SendAsync(string tenant, IEnumerable<Span> spans)
    {
        using var otlp = fixture.Server.CreateClient(Listener.OtlpHttp);
        await OtlpJsonExport.SendAsync(otlp, tenant, spans);
    }
}
