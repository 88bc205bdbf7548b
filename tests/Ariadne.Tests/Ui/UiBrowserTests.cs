using System.Diagnostics;
using Ariadne.Model;
using Ariadne.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Ariadne.Tests.Ui;

/// <summary>
/// The UI in Debian's Chromium against the real server holding <see cref="CheckoutTraces"/> in the default tenant.
/// Large traces go to the "bulk" tenant (the page request names it in x-tenant), so they do not change the counts.
/// </summary>
public sealed class UiBrowserTests(UiFixture fixture, ITestOutputHelper output) : IClassFixture<UiFixture>
{
    private static readonly string s_slow = CheckoutTraces.Slow.ToHex();
    private static readonly string s_fast = CheckoutTraces.Fast.ToHex();

    [Fact]
    public async Task Search_by_service_and_operation_lists_the_checkouts_with_the_slow_one_marked_as_failed()
    {
        var page = await fixture.OpenAsync("search?service=gateway&operation=POST%20%2Fcheckout&lookback=1h");
        await Expect(page.Locator("#result-count")).ToHaveTextAsync("3 traces");
        var slow = page.Locator($"article[data-trace-id='{s_slow}']");
        await Expect(slow).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("has-error"));
        await Expect(slow.Locator(".dur")).ToHaveTextAsync("1s");
        await Expect(slow).ToContainTextAsync("7 spans");
        await Expect(page.Locator("svg.scatter a.dot")).ToHaveCountAsync(3);
        await fixture.ScreenshotAsync(page, "search");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Search_form_puts_the_query_in_the_url_and_finds_by_tag()
    {
        var page = await fixture.OpenAsync("search");
        await page.Locator("#service").SelectOptionAsync("gateway");
        await page.Locator("#tags").FillAsync("order.id=ord-1001");
        await page.Locator("#find-traces").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("service=gateway.*tags=order.id%3Dord-1001"));
        await Expect(page.Locator("#result-count")).ToHaveTextAsync("1 trace");
        await page.Locator($"article[data-trace-id='{s_slow}'] a.title").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/trace/{s_slow}$"));
        await page.CloseAsync();
    }

    [Fact]
    public async Task Times_are_shown_in_the_viewer_s_time_zone_and_stay_so_when_the_page_updates()
    {
        // India: +05:30 all year, so the expected text does not depend on the date.
        var page = await fixture.OpenAsync("search?service=gateway&operation=POST%20%2Fcheckout&lookback=1h", timeZone: "Asia/Kolkata");
        await Expect(page.Locator("#result-count")).ToHaveTextAsync("3 traces");
        var times = page.Locator("article[data-trace-id] time.local-time");
        await Expect(times.First).ToBeVisibleAsync();
        foreach (var time in await times.AllAsync())
        {
            var utc = DateTimeOffset.Parse(await time.GetAttributeAsync("datetime") ?? string.Empty, System.Globalization.CultureInfo.InvariantCulture);
            var local = utc.ToOffset(TimeSpan.FromHours(5.5)).ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture) + " UTC+05:30";
            await Expect(time).ToHaveTextAsync(local);
            Assert.EndsWith(" UTC", await time.GetAttributeAsync("title"), StringComparison.Ordinal);
        }

        // A trace page rendered after navigation inside the same circuit is localised too.
        await page.Locator($"article[data-trace-id='{s_slow}'] a.title").ClickAsync();
        await Expect(page.Locator("#trace-stats time.local-time")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC\+05:30$"));
        await page.CloseAsync();
    }

    [Fact]
    public async Task Dragging_across_the_minimap_zooms_the_waterfall_to_that_range()
    {
        var page = await fixture.OpenAsync($"trace/{s_slow}");
        var minimap = page.Locator("svg.minimap");
        var box = (await minimap.BoundingBoxAsync())!;
        var y = box.Y + (box.Height / 2);
        await page.Mouse.MoveAsync(box.X + (box.Width * 0.25f), y);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + (box.Width * 0.5f), y, new MouseMoveOptions { Steps = 5 });
        await page.Mouse.MoveAsync(box.X + (box.Width * 0.75f), y, new MouseMoveOptions { Steps = 5 });
        await page.Mouse.UpAsync();

        await Expect(page.Locator("#zoom-from")).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^2[45][0-9]$"));
        await Expect(page.Locator("#zoom-to")).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^7[45][0-9]$"));
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Reset zoom" })).ToBeVisibleAsync();
        await Expect(page.Locator(".minimap-selection")).ToHaveCountAsync(0);

        await page.GetByRole(AriaRole.Button, new() { Name = "Reset zoom" }).ClickAsync();
        await Expect(page.Locator("#zoom-from")).ToHaveValueAsync("0");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Waterfall_shows_every_span_and_the_error_span()
    {
        var page = await fixture.OpenAsync($"trace/{s_slow}");
        await Expect(page.Locator(".span-row")).ToHaveCountAsync(7);
        await Expect(page.Locator("#span-count")).ToHaveTextAsync("7");
        var errors = page.Locator(".span-row.is-error");
        await Expect(errors).ToHaveCountAsync(1);
        await Expect(errors).ToHaveAttributeAsync("data-operation", "fraud-check");
        await Expect(page.Locator("#error-count")).ToHaveTextAsync("1 error");
        await fixture.ScreenshotAsync(page, "trace");

        // Collapsing orders hides its four descendants.
        await page.Locator(".span-row[data-operation='create-order'] .toggle").ClickAsync();
        await Expect(page.Locator(".span-row")).ToHaveCountAsync(3);
        await page.CloseAsync();
    }

    [Fact]
    public async Task Find_in_trace_marks_the_matches_and_enter_steps_through_them_expanding_what_hides_them()
    {
        var page = await fixture.OpenAsync($"trace/{s_slow}");
        await page.Locator(".span-row[data-operation='create-order'] .toggle").ClickAsync();
        await Expect(page.Locator(".span-row")).ToHaveCountAsync(3);

        var find = page.Locator("#trace-find");
        await find.FillAsync("payments");
        await Expect(page.Locator("#find-count")).ToHaveTextAsync("2 spans match");
        await find.PressAsync("Enter");
        await Expect(page.Locator("#find-count")).ToHaveTextAsync("1 of 2");
        await Expect(page.Locator(".span-row[data-operation='charge']")).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(page.Locator(".span-row.find-match")).ToHaveCountAsync(2);
        await Expect(page.Locator("#span-details")).ToContainTextAsync("charge");
        await fixture.ScreenshotAsync(page, "find-in-trace");
        await find.PressAsync("Enter");
        await Expect(page.Locator(".span-row[data-operation='fraud-check']")).ToHaveAttributeAsync("aria-selected", "true");
        await find.PressAsync("Shift+Enter");
        await Expect(page.Locator("#find-count")).ToHaveTextAsync("1 of 2");

        await find.FillAsync("order.id=ord-1001");
        await Expect(page.Locator("#find-count")).ToHaveTextAsync("1 span matches");
        await Expect(page.Locator(".span-row.find-match")).ToHaveAttributeAsync("data-operation", "POST /checkout");
        await find.FillAsync("no-such-thing");
        await Expect(page.Locator("#find-count")).ToHaveTextAsync("no span matches");
        await Expect(page.Locator(".span-row.find-match")).ToHaveCountAsync(0);
        await page.CloseAsync();
    }

    [Fact]
    public async Task Trace_json_link_downloads_the_trace_as_the_jaeger_api_serves_it()
    {
        var page = await fixture.OpenAsync($"trace/{s_slow}");
        var href = await page.Locator("#trace-json").GetAttributeAsync("href");
        Assert.Equal($"api/traces/{s_slow}", href);
        var response = await page.APIRequest.GetAsync(new Uri(fixture.BaseUri, href).ToString());
        Assert.Equal(200, response.Status);
        using var json = System.Text.Json.JsonDocument.Parse(await response.TextAsync());
        Assert.Equal(s_slow, json.RootElement.GetProperty("data")[0].GetProperty("traceID").GetString());
        await page.CloseAsync();
    }

    [Fact]
    public async Task Span_details_show_typed_attributes_events_and_resource()
    {
        var page = await fixture.OpenAsync($"trace/{s_slow}");
        await page.Locator(".span-row[data-operation='POST /checkout']").ClickAsync();
        var details = page.Locator("#span-details");
        await Expect(details).ToBeVisibleAsync();
        var status = details.Locator("#span-attributes tr[data-key='http.response.status_code']");
        await Expect(status.Locator("td.mono")).ToHaveTextAsync("502");
        await Expect(status.Locator("td.type")).ToHaveTextAsync("int");
        await Expect(details.Locator("#span-attributes tr[data-key='order.value'] td.type")).ToHaveTextAsync("double");
        await Expect(details.Locator("#resource-attributes tr[data-key='host.name'] td.mono")).ToHaveTextAsync("shop-1");
        await Expect(details.Locator("input[aria-label='Span id']")).ToHaveValueAsync(new SpanId(CheckoutTraces.SlowRoot).ToHex());
        await fixture.ScreenshotAsync(page, "span-details");

        await page.Locator(".span-row[data-operation='fraud-check']").ClickAsync();
        await Expect(details.Locator(".status-error")).ToHaveTextAsync("Error: card declined");
        await Expect(details).ToContainTextAsync("CardDeclinedException");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Trace_page_shows_the_trace_s_log_records_with_severity_and_the_span_s_records_in_its_details()
    {
        var root = fixture.Server.Server.Services.GetRequiredService<ISpanStore>();
        var rootSpan = (await root.GetTraceAsync("default", CheckoutTraces.Medium, CancellationToken.None)).Single(s => s.ParentSpanId.IsEmpty);
        var resource = new Resource { ServiceName = rootSpan.ServiceName };
        LogRecord Log(long offsetMs, int severity, string body, SpanId spanId) => new()
        {
            TraceId = CheckoutTraces.Medium,
            SpanId = spanId,
            TimeUnixNano = rootSpan.StartTimeUnixNano + offsetMs * 1_000_000,
            SeverityNumber = severity,
            Body = AnyValue.FromString(body),
            Attributes = [new("order.id", AnyValue.FromInt(7781))],
            Resource = resource,
        };
        await fixture.Server.Server.Services.GetRequiredService<ILogStore>().AppendAsync("default",
            [Log(3, 9, "checkout started", rootSpan.SpanId), Log(5, 17, "inventory reservation failed", default)], CancellationToken.None);

        var page = await fixture.OpenAsync($"trace/{CheckoutTraces.Medium.ToHex()}");
        var logs = page.Locator("#trace-log-list li.log");
        await Expect(logs).ToHaveCountAsync(2);
        await Expect(logs.Nth(0)).ToHaveAttributeAsync("data-severity", "info");
        await Expect(logs.Nth(0).Locator(".log-body")).ToHaveTextAsync("checkout started");
        await Expect(logs.Nth(0).Locator(".log-time")).ToHaveTextAsync("+3ms");
        await Expect(logs.Nth(1)).ToHaveAttributeAsync("data-severity", "error");
        await Expect(logs.Nth(1).Locator(".log-sev")).ToHaveTextAsync("ERROR");
        var color = await logs.Nth(1).EvaluateAsync<string>("e => getComputedStyle(e).borderLeftColor");
        Assert.Equal("rgb(198, 40, 40)", color);

        await page.Locator($".span-row[data-span-id='{rootSpan.SpanId.ToHex()}']").ClickAsync();
        var spanLogs = page.Locator("#span-details #span-logs li.log");
        await Expect(spanLogs).ToHaveCountAsync(1);
        await Expect(spanLogs.Locator(".log-body")).ToHaveTextAsync("checkout started");
        await fixture.ScreenshotAsync(page, "trace-logs");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Critical_path_toggle_highlights_the_spans_that_determined_the_latency()
    {
        var page = await fixture.OpenAsync($"trace/{s_slow}");
        await page.Locator("#critical-path-toggle").ClickAsync();
        var onPath = page.Locator(".span-row.on-critical-path");
        await Expect(onPath).ToHaveCountAsync(CheckoutTraces.SlowCriticalPath.Length);
        var ids = new HashSet<string>();
        foreach (var row in await onPath.AllAsync())
        {
            ids.Add((await row.GetAttributeAsync("data-span-id"))!);
        }

        Assert.Equal(CheckoutTraces.SlowCriticalPath.Select(id => new SpanId(id).ToHex()).ToHashSet(), ids);
        await Expect(page.Locator(".span-row[data-operation='get-price']")).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex("on-critical-path"));
        await fixture.ScreenshotAsync(page, "critical-path");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Compare_with_typical_opens_the_median_checkout_and_shows_added_and_removed_spans()
    {
        var page = await fixture.OpenAsync($"trace/{s_slow}");
        await page.Locator("#compare-typical").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/trace/{s_fast}\\.\\.\\.{s_slow}$"));
        var table = page.Locator("#compare-table");
        await Expect(table.Locator("tr[data-change='added'][data-operation='fraud-check']")).ToHaveCountAsync(1);
        await Expect(table.Locator("tr[data-change='added'][data-operation='send-email']")).ToHaveCountAsync(1);
        await Expect(table.Locator("tr[data-change='removed'][data-operation='apply-discount']")).ToHaveCountAsync(1);
        await Expect(table.Locator("tr[data-operation='charge'] td").Last).ToHaveTextAsync("+560ms");
        await Expect(page.Locator("#compare-summary")).ToContainTextAsync("slower by 800ms");
        await fixture.ScreenshotAsync(page, "compare");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Service_map_shows_the_known_edges_and_a_service_s_operations()
    {
        var page = await fixture.OpenAsync("dependencies?lookback=1h");
        var map = page.Locator("#service-map");
        await Expect(map.Locator("g.edge[data-parent='gateway'][data-child='orders']")).ToHaveAttributeAsync("data-calls", "3");
        await Expect(map.Locator("g.edge[data-parent='orders'][data-child='payments']")).ToHaveAttributeAsync("data-calls", "3");
        await Expect(map.Locator("g.edge[data-parent='orders'][data-child='inventory']")).ToHaveAttributeAsync("data-calls", "3");
        await Expect(map.Locator("g.edge[data-parent='gateway'][data-child='notifications']")).ToHaveAttributeAsync("data-calls", "1");
        await Expect(map.Locator("g.edge[data-parent='gateway'][data-child='catalog']")).ToHaveAttributeAsync("data-calls", "1");
        await Expect(map.Locator("g.edge")).ToHaveCountAsync(6);

        await map.Locator("g.node[data-service='orders']").ClickAsync();
        await Expect(page.Locator("#service-operations")).ToContainTextAsync("create-order");
        await Expect(page.Locator("#service-operations")).ToContainTextAsync("apply-discount");
        await fixture.ScreenshotAsync(page, "service-map");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Service_overview_shows_red_per_operation()
    {
        var page = await fixture.OpenAsync("services?service=payments&lookback=1h");
        var charge = page.Locator("#operations-table tr[data-operation='charge']");
        await Expect(charge.Locator("td").Nth(2)).ToHaveTextAsync("3");

        // The rate divides by the time the data covers (the charges are recent), not by the whole hour.
        var covered = long.Parse(await charge.Locator("td.rate").GetAttributeAsync("data-covered-seconds") ?? "-1", System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(covered, 1, 3599);
        await Expect(charge.Locator("td.rate")).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("^3 requests over the last "));
        await Expect(page.Locator("#operations-table tr[data-operation='fraud-check'] td").Nth(4)).ToHaveTextAsync("100%");
        await fixture.ScreenshotAsync(page, "services");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Trace_id_box_in_the_header_opens_the_trace_and_an_unknown_id_says_so()
    {
        var page = await fixture.OpenAsync("dependencies");
        await page.Locator("#trace-id-box").FillAsync(s_fast);
        await page.Locator("#trace-id-box").PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/trace/{s_fast}$"));
        await Expect(page.Locator(".span-row")).ToHaveCountAsync(5);

        await page.Locator("#trace-id-box").FillAsync("deadbeef");
        await page.Locator("#trace-id-box").PressAsync("Enter");
        await Expect(page.Locator("#trace-missing")).ToContainTextAsync("No trace 000000000000000000000000deadbeef");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Trace_view_is_usable_at_a_narrow_width_and_from_the_keyboard()
    {
        var page = await fixture.OpenAsync($"trace/{s_slow}", width: 420, height: 800);
        var row = page.Locator(".span-row[data-operation='charge']");
        await row.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#span-details")).ToHaveAttributeAsync("data-span-id", new SpanId(CheckoutTraces.SlowCharge).ToHex());
        await page.Keyboard.PressAsync("ArrowLeft");
        await Expect(page.Locator(".span-row")).ToHaveCountAsync(6);
        await fixture.ScreenshotAsync(page, "trace-narrow");
        await page.CloseAsync();
    }

    [Fact]
    public async Task A_ten_thousand_span_trace_renders_only_the_rows_in_view()
    {
        var id = new TraceId(0x10_000, 0x10_000);
        var store = fixture.Server.Server.Services.GetRequiredService<ISpanStore>();
        await store.AppendAsync("bulk", CheckoutTraces.Large(id, 10_000, fixture.Traces.Base), CancellationToken.None);
        var page = await fixture.OpenAsync($"trace/{id.ToHex()}", tenant: "bulk");
        await Expect(page.Locator("#span-count")).ToHaveTextAsync("10000");
        await Expect(page.Locator(".span-row").First).ToBeVisibleAsync();
        Assert.InRange(await page.Locator(".span-row").CountAsync(), 1, 200);

        // Finding the last span by its id scrolls it into the DOM and into view.
        var last = page.Locator(".span-row[data-span-id='0000000000002710']");
        await Expect(last).ToHaveCountAsync(0);
        await page.Locator("#trace-find").FillAsync("0000000000002710");
        await page.Locator("#trace-find").PressAsync("Enter");
        await Expect(last).ToBeInViewportAsync();
        await Expect(last).ToHaveAttributeAsync("aria-selected", "true");

        // So does scrolling to the end; the first span has left the DOM.
        await page.Locator("#wf-rows").EvaluateAsync("e => e.scrollTop = 0");
        await Expect(last).ToHaveCountAsync(0);
        await page.Locator("#wf-rows").EvaluateAsync("e => e.scrollTop = e.scrollHeight");
        await Expect(last).ToBeVisibleAsync();
        await page.CloseAsync();
    }

    [Fact]
    public async Task Empty_server_tells_how_to_send_traces()
    {
        await using var empty = new Infrastructure.ServerFixture();
        await empty.InitializeAsync();
        var page = await fixture.OpenAsync("search", on: empty);
        await Expect(page.Locator(".empty")).ToContainTextAsync("No traces yet");
        await Expect(page.Locator(".empty")).ToContainTextAsync("OTEL_EXPORTER_OTLP_ENDPOINT");
        await fixture.ScreenshotAsync(page, "empty");
        await page.CloseAsync();
    }

    /// <summary>
    /// Not an assertion (no timing assertions in tests): the figures for docs/PERFORMANCE.md, a 1,000-span trace
    /// against the 7-span checkout as the same-run baseline (what the page costs whatever the trace).
    /// </summary>
    [Fact]
    public async Task Load_time_of_a_thousand_span_trace_is_reported()
    {
        var id = new TraceId(0x1000, 0x1000);
        var store = fixture.Server.Server.Services.GetRequiredService<ISpanStore>();
        await store.AppendAsync("bulk", CheckoutTraces.Large(id, 1000, fixture.Traces.Base), CancellationToken.None);
        await store.AppendAsync("bulk", new CheckoutTraces(DateTimeOffset.UtcNow).SlowCheckout(), CancellationToken.None);
        var page = await fixture.OpenAsync("search", tenant: "bulk");
        var large = await MeasureAsync(page, id, "1000");
        var small = await MeasureAsync(page, CheckoutTraces.Slow, "7");
        output.WriteLine($"navigation to interactive waterfall, median of 9 after 1 warm-up: 1000 spans {large:0} ms, 7 spans {small:0} ms, ratio {large / small:0.00}");
        await page.CloseAsync();
    }

    private static async Task<double> MeasureAsync(IPage page, TraceId id, string spanCount)
    {
        var timings = new List<double>();
        for (var i = 0; i < 10; i++)
        {
            var watch = Stopwatch.StartNew();
            await page.GotoAsync($"trace/{id.ToHex()}");
            await Expect(page.Locator(".app[data-interactive=true] .span-row").First).ToBeVisibleAsync();
            timings.Add(watch.Elapsed.TotalMilliseconds);
        }

        await Expect(page.Locator("#span-count")).ToHaveTextAsync(spanCount);
        var warm = timings.Skip(1).Order().ToList();
        return warm[warm.Count / 2];
    }
}
