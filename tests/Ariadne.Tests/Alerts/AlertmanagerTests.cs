using System.Text.Json;
using Ariadne.Alerts;
using Ariadne.Configuration;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Ui;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Ariadne.Tests.Alerts;

/// <summary>The server sends a firing alert and its resolution to a real Alertmanager, which notifies its webhook.</summary>
public sealed class AlertmanagerTests(AlertmanagerFixture alertmanager, UiFixture ui) : IClassFixture<AlertmanagerFixture>, IClassFixture<UiFixture>, IAsyncLifetime
{
    private static readonly Resource s_orders = new() { ServiceName = "orders" };
    private readonly AlertServer _server = new(alertmanager.Url);
    private ulong _nextId = 1;

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    private async Task TrafficAsync(int count, int errors)
    {
        var end = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        var spans = Enumerable.Range(0, count).Select(i =>
        {
            var id = _nextId++;
            var start = end - (i + 1) * 100_000_000L;
            return new Span
            {
                TraceId = new TraceId(9, id), SpanId = new SpanId(id), Name = "POST /checkout", Kind = SpanKind.Server, Resource = s_orders,
                StartTimeUnixNano = start, EndTimeUnixNano = start + 50_000_000, StatusCode = i < errors ? StatusCode.Error : StatusCode.Unset,
            };
        }).ToList();
        await _server.Server.Services.GetRequiredService<ISpanStore>().AppendAsync("default", spans, CancellationToken.None);
    }

    [Fact]
    public async Task Alertmanager_receives_the_firing_alert_and_its_resolution_and_the_api_shows_the_state()
    {
        var engine = _server.Server.Services.GetRequiredService<AlertEngine>();
        await TrafficAsync(40, errors: 20);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Firing, engine.States[0].State);

        var firing = await alertmanager.WaitForAsync("firing");
        var alert = firing.GetProperty("alerts")[0];
        Assert.Equal("CheckoutErrors", alert.GetProperty("labels").GetProperty("alertname").GetString());
        Assert.Equal("orders", alert.GetProperty("labels").GetProperty("service").GetString());
        Assert.Equal("critical", alert.GetProperty("labels").GetProperty("severity").GetString());
        Assert.Equal("error rate of POST /checkout on orders is 50%, over 10%", alert.GetProperty("annotations").GetProperty("summary").GetString());
        Assert.Equal("http://ariadne.test/search?service=orders&operation=POST%20%2Fcheckout&lookback=1m&tags=error%3Dtrue", alert.GetProperty("generatorURL").GetString());

        using (var json = JsonDocument.Parse(await _server.Query.GetStringAsync("/api/ariadne/alerts")))
        {
            var rule = json.RootElement.GetProperty("rules")[0];
            Assert.Equal("firing", rule.GetProperty("state").GetString());
            Assert.Equal(0.5, rule.GetProperty("value").GetDouble());
            Assert.Equal(0.1, rule.GetProperty("limit").GetDouble());
        }

        // The Alerts page of this server shows the rule firing, with its value and a link to the failed traces.
        var page = await ui.OpenAsync("alerts", on: _server);
        var row = page.Locator("#alerts-table tr[data-rule='CheckoutErrors']");
        await Expect(row).ToHaveAttributeAsync("data-state", "firing");
        await Expect(row).ToContainTextAsync("50%");
        await Expect(row.Locator("a", new() { HasText = "Traces" })).ToHaveAttributeAsync("href", "search?service=orders&operation=POST%20%2Fcheckout&lookback=1m&tags=error%3Dtrue");
        await ui.ScreenshotAsync(page, "alerts");
        await page.CloseAsync();

        // Enough good checkouts bring the error rate under 10%.
        await TrafficAsync(400, errors: 0);
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal(AlertState.Resolved, engine.States[0].State);
        var resolved = await alertmanager.WaitForAsync("resolved");
        Assert.Equal("CheckoutErrors", resolved.GetProperty("alerts")[0].GetProperty("labels").GetProperty("alertname").GetString());
        Assert.Equal("resolved", resolved.GetProperty("alerts")[0].GetProperty("status").GetString());
    }

    private sealed class AlertServer(Uri alertmanagerUrl) : ServerFixture
    {
        protected override void Configure(AriadneOptions options)
        {
            // A long interval: the test drives evaluation itself, the background loop only runs the first one.
            options.Alerts = new AlertOptions
            {
                AlertmanagerUrl = alertmanagerUrl.ToString(),
                ExternalUrl = "http://ariadne.test",
                EvaluationInterval = TimeSpan.FromHours(1),
                Rules =
                [
                    new AlertRuleOptions
                    {
                        Name = "CheckoutErrors", Service = "orders", Operation = "POST /checkout", Signal = AlertSignal.ErrorRate,
                        Above = 0.1, Window = TimeSpan.FromMinutes(1), Severity = "critical",
                    },
                ],
            };
        }
    }
}
