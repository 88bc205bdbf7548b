using Ariadne.Hosting;
using Ariadne.Model;
using Ariadne.Tests.Analysis;
using Ariadne.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Ariadne.Tests.Ui;

/// <summary>
/// The real server holding <see cref="CheckoutTraces"/>, and Debian's Chromium driven by Playwright (no browser
/// download: <c>ExecutablePath</c> points at /usr/bin/chromium, as in SERVICES.md).
/// </summary>
public sealed class UiFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public ServerFixture Server { get; } = new();

    private IBrowser? _browser;
    private readonly SemaphoreSlim _launch = new(1, 1);

    public CheckoutTraces Traces { get; private set; } = null!;

    public Uri BaseUri => Server.Server.GetUri(Listener.Query);

    /// <summary>Where screenshots go: the test results directory (artifacts/test-results in scripts/test.sh).</summary>
    public string ScreenshotDirectory { get; } = Path.Combine(FindRepositoryRoot(), "artifacts", "test-results", "screenshots");

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        Traces = new CheckoutTraces(DateTimeOffset.UtcNow);
        await SendOverOtlpAsync("default", Traces.All());
        await SendOverOtlpAsync(ShopTraces.Tenant, new ShopTraces(DateTimeOffset.UtcNow).All());
    }

    /// <summary>The traces reach the server as a user's would: OTLP/JSON on the OTLP/HTTP listener.</summary>
    private async Task SendOverOtlpAsync(string tenant, IEnumerable<Span> spans)
    {
        using var otlp = Server.CreateClient(Listener.OtlpHttp);
        await OtlpJsonExport.SendAsync(otlp, tenant, spans);
    }

    /// <summary>Chromium, started on first use so that tests of the JSON API alone do not pay for it.</summary>
    public async Task<IBrowser> GetBrowserAsync()
    {
        await _launch.WaitAsync();
        try
        {
            if (_browser is null)
            {
                // Playwright's 5 s default for an expectation is shorter than a Blazor circuit may take to come up
                // while the rest of the suite (ClickHouse, crash tests) loads the machine: wait as long as Poll does.
                Assertions.SetDefaultExpectTimeout(30_000);
                Directory.CreateDirectory(ScreenshotDirectory);
                _playwright = await Playwright.CreateAsync();
                _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
                {
                    ExecutablePath = "/usr/bin/chromium",
                    Headless = true,
                    Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
                });
            }

            return _browser;
        }
        finally
        {
            _launch.Release();
        }
    }

    /// <summary>
    /// A fresh page at 1280×800 that has opened <paramref name="path"/> and whose Blazor circuit is live; the browser's
    /// time zone is <paramref name="timeZone"/> (an IANA id), or the machine's. The page is on this fixture's server,
    /// or on <paramref name="on"/> for a test that needs a server set up otherwise.
    /// </summary>
    public async Task<IPage> OpenAsync(string path, int width = 1280, int height = 800, string? tenant = null, string? timeZone = null, ServerFixture? on = null)
    {
        var browser = await GetBrowserAsync();
        var page = await browser.NewPageAsync(new BrowserNewPageOptions
        {
            BaseURL = (on ?? Server).Server.GetUri(Listener.Query).ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ExtraHTTPHeaders = tenant is null ? null : new Dictionary<string, string> { ["x-tenant"] = tenant },
            TimezoneId = timeZone,
        });
        await page.GotoAsync(path);
        await WaitInteractiveAsync(page);
        return page;
    }

    /// <summary>Clicks before the circuit is up would be lost: the layout marks itself once it runs interactively.</summary>
    public static Task WaitInteractiveAsync(IPage page) =>
        Assertions.Expect(page.Locator(".app[data-interactive=true]")).ToBeVisibleAsync();

    public async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = false });

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _launch.Dispose();

        _playwright?.Dispose();
        await Server.DisposeAsync();
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Ariadne.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? AppContext.BaseDirectory;
    }
}
