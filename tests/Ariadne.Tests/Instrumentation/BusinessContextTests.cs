using System.Diagnostics;
using System.Net;
using Ariadne.Instrumentation;
using Ariadne.Instrumentation.Context;
using Ariadne.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Ariadne.Tests.Instrumentation;

[Collection(SdkCollection.Name)]
public sealed class BusinessContextTests
{
    [Fact]
    public async Task Allowlisted_context_travels_as_baggage_onto_spans_and_nothing_outside_the_allowlist_leaks()
    {
        // Downstream: a plain server without the SDK that reports the baggage header it was sent.
        await using var downstream = await StartAppAsync(app => app.MapGet("/echo", (HttpRequest request) => request.Headers["baggage"].ToString()));
        var exported = new List<Activity>();
        await using var upstream = await StartAppAsync(
            app => app.MapGet("/checkout", async (IHttpClientFactory clients) =>
            {
                AriadneContext.SetUser("user-42");
                AriadneContext.SetOrder(new string('o', 500));
                AriadneContext.Set("internal.note", "must stay here");
                return await clients.CreateClient().GetStringAsync(new Uri(downstream.Urls.First() + "/echo"));
            }),
            builder =>
            {
                builder.Services.AddHttpClient();
                builder.AddAriadneTracing("shop-under-test", options =>
                {
                    options.OtlpEndpoint = ClosedPortUri();
                    options.ExportLogs = false;
                    options.ExportMetrics = false;
                    options.ConfigureTracing = tracing => tracing.AddInMemoryExporter(exported);
                });
            });

        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, upstream.Urls.First() + "/checkout");
        request.Headers.Add("baggage", "session.id=session-7,partner.secret=abc123");
        using var response = await client.SendAsync(request);
        var baggageSentDownstream = await response.Content.ReadAsStringAsync();
        await upstream.StopAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var entries = baggageSentDownstream.Split(',', StringSplitOptions.TrimEntries).ToDictionary(e => e.Split('=')[0], e => e.Split('=')[1]);
        Assert.Equal("user-42", entries["user.id"]);
        Assert.Equal("session-7", entries["session.id"]);
        Assert.Equal(128, entries["order.id"].Length);
        Assert.DoesNotContain("partner.secret", entries.Keys);
        Assert.DoesNotContain("internal.note", entries.Keys);

        // The downstream app and the test's own client run in this process too, so their spans are recorded as well.
        var server = Assert.Single(exported, a => a.Kind == ActivityKind.Server && a.DisplayName == "GET /checkout");
        Assert.Equal("session-7", server.GetTagItem("session.id"));
        Assert.Equal("must stay here", server.GetTagItem("internal.note"));
        Assert.Null(server.GetTagItem("partner.secret"));
        var outgoing = Assert.Single(exported, a => a.Kind == ActivityKind.Client && a.ParentSpanId == server.SpanId);
        Assert.Equal("user-42", outgoing.GetTagItem("user.id"));
        Assert.Equal("session-7", outgoing.GetTagItem("session.id"));
        Assert.Equal(new string('o', 128), outgoing.GetTagItem("order.id"));
        Assert.Null(outgoing.GetTagItem("internal.note"));
    }

    [Fact]
    public void Limits_cut_long_values_without_splitting_a_surrogate_pair()
    {
        var options = new BusinessContextOptions { MaxValueLength = 4 };
        var policy = new BusinessContextPolicy(options);

        Assert.Equal("abcd", policy.Limit("abcdef"));
        Assert.Equal("abc", policy.Limit("abc\U0001F600"));
        Assert.Equal("ab", policy.Limit("ab"));
    }

    [Fact]
    public void Filter_keeps_allowlisted_keys_only_and_custom_allowlists_apply()
    {
        var options = new BusinessContextOptions();
        options.BaggageAllowlist.Add("customer.region");
        var policy = new BusinessContextPolicy(options);

        var filtered = policy.Filter(Baggage.Create(new Dictionary<string, string>
        {
            ["user.id"] = "u1",
            ["customer.region"] = "eu",
            ["password"] = "hunter2",
        }));

        Assert.Equal(2, filtered.Count);
        Assert.Equal("u1", filtered.GetBaggage("user.id"));
        Assert.Equal("eu", filtered.GetBaggage("customer.region"));
        Assert.Null(filtered.GetBaggage("password"));
    }

    [Fact]
    public void Filter_passes_baggage_within_the_policy_through_and_cuts_or_drops_the_rest()
    {
        var policy = new BusinessContextPolicy(new BusinessContextOptions { MaxValueLength = 8 });
        var passing = Baggage.Create(new Dictionary<string, string> { ["user.id"] = "u1", ["session.id"] = "s1" });

        Assert.Equal(passing, policy.Filter(passing));
        Assert.Equal(0, policy.Filter(default).Count);

        var filtered = policy.Filter(Baggage.Create(new Dictionary<string, string> { ["user.id"] = "user-12345678", ["session.id"] = "s1" }));
        Assert.Equal(2, filtered.Count);
        Assert.Equal("user-123", filtered.GetBaggage("user.id"));
        Assert.Equal("s1", filtered.GetBaggage("session.id"));

        var dropped = policy.Filter(Baggage.Create(new Dictionary<string, string> { ["user.id"] = "u1", ["partner.secret"] = "abc" }));
        Assert.Equal("u1", Assert.Single(dropped.GetBaggage()).Value);
    }

    [Fact]
    public void Setting_several_entries_at_once_tags_each_and_adds_the_allowlisted_ones_to_the_baggage_already_there()
    {
        AriadneContext.Policy = BusinessContextPolicy.Default;
        Baggage.Current = Baggage.Create(new Dictionary<string, string> { ["session.id"] = "from-upstream" });
        using var activity = new Activity("POST /checkout").Start();
        try
        {
            AriadneContext.Set([
                new(AriadneContext.UserIdKey, "user-7"),
                new(AriadneContext.OrderIdKey, new string('o', 300)),
                new("internal.note", "span only"),
            ]);

            Assert.Equal("user-7", activity.GetTagItem("user.id"));
            Assert.Equal(new string('o', 128), activity.GetTagItem("order.id"));
            Assert.Equal("span only", activity.GetTagItem("internal.note"));
            var baggage = Baggage.Current.GetBaggage();
            Assert.Equal(3, baggage.Count);
            Assert.Equal("from-upstream", baggage["session.id"]);
            Assert.Equal("user-7", baggage["user.id"]);
            Assert.Equal(new string('o', 128), baggage["order.id"]);

            // A bad entry is refused before anything is set, so a half-applied context never travels.
            Assert.Throws<ArgumentException>(() => AriadneContext.Set([new(AriadneContext.PaymentIdKey, "pay-1"), new(string.Empty, "x")]));
            Assert.Null(activity.GetTagItem("payment.id"));
            Assert.Null(Baggage.GetBaggage("payment.id"));
        }
        finally
        {
            Baggage.Current = default;
        }
    }

    internal static Uri ClosedPortUri() => new($"http://127.0.0.1:{FreePort.Next()}");

    internal static async Task<WebApplication> StartAppAsync(Action<WebApplication> map, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        configure?.Invoke(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return app;
    }
}
