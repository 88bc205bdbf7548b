using Ariadne.Hosting;
using Ariadne.LoadGen;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.LoadGen;

public sealed class LoadGenEndToEndTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private ISpanStore Store => fixture.Server.Services.GetRequiredService<ISpanStore>();

    [Theory]
    [InlineData(LoadGenProtocol.Grpc)]
    [InlineData(LoadGenProtocol.Http)]
    public async Task A_bounded_run_is_stored_in_full_as_shop_shaped_traces(LoadGenProtocol protocol)
    {
        var tenant = $"loadgen-{protocol}".ToLowerInvariant();
        var before = Store.GetStats().Spans;
        var options = new LoadGenOptions
        {
            Target = fixture.Server.GetUri(protocol == LoadGenProtocol.Grpc ? Listener.OtlpGrpc : Listener.OtlpHttp),
            Protocol = protocol,
            Connections = 2,
            SpansPerRequest = 200,
            TotalSpans = 3000,
            Payloads = 4,
            Tenant = tenant,
        };

        var progress = new List<LoadGenProgress>();
        var report = await new LoadGenerator(options).RunAsync(progress.Add, CancellationToken.None);

        Assert.Empty(report.Errors);
        Assert.Equal(0, report.FailedRequests);
        Assert.InRange(report.SpansSent, 3000, 3000 + (2 * 400));
        Assert.Equal(report.SpansSent, report.SpansAccepted);
        Assert.Equal(0, report.SpansRejected);
        Assert.True(report.LatencyMaxMs >= report.LatencyP50Ms);
        Assert.Equal(report.SpansAccepted, Store.GetStats().Spans - before);

        Assert.Equal(SyntheticTraces.Services.Order(StringComparer.Ordinal), await Store.GetServicesAsync(tenant, CancellationToken.None));
        var traces = await Store.FindTracesAsync(tenant, new TraceQuery { ServiceName = "gateway", Limit = 50 }, CancellationToken.None);
        Assert.Equal(50, traces.Count);
        var now = DateTimeOffset.UtcNow;
        Assert.All(traces, trace =>
        {
            Assert.InRange(trace.Count, 5, 20);
            var root = Assert.Single(trace, s => s.IsRoot);
            Assert.Equal("gateway", root.ServiceName);
            Assert.Equal(SpanKind.Server, root.Kind);
            Assert.True(root.TryGetAttribute("http.route", out _));
            var ids = trace.Select(s => s.SpanId).ToHashSet();
            Assert.All(trace, span =>
            {
                Assert.True(span.IsRoot || ids.Contains(span.ParentSpanId));
                Assert.InRange(span.Attributes.Length, 7, 14);
                Assert.Contains(span.Resource.Attributes, a => a.Key == "deployment.environment.name");
                Assert.False(string.IsNullOrEmpty(span.Scope.Name));

                // Stamped at send time: the traces look recent, not like the moment the requests were encoded.
                var start = DateTimeOffset.UnixEpoch.AddTicks(span.StartTimeUnixNano / 100);
                Assert.InRange(start, now.AddMinutes(-5), now.AddMinutes(1));
            });
        });

        // Each send stamps fresh trace ids, so the same four requests sent over and over are distinct traces.
        Assert.True(Store.GetStats().Traces >= report.SpansAccepted / 20);
    }

    [Fact]
    public async Task The_read_probe_finds_the_traces_it_sent_and_times_both_kinds_of_read()
    {
        var options = new LoadGenOptions
        {
            Target = fixture.Server.GetUri(Listener.OtlpGrpc),
            Connections = 1,
            SpansPerRequest = 100,
            Duration = TimeSpan.FromSeconds(3),
            Payloads = 2,
            Tenant = "loadgen-reads",
            Query = fixture.Server.GetUri(Listener.Query),
            QueryRate = 20,
        };

        using var generator = new LoadGenerator(options);
        var report = await generator.RunAsync(null, CancellationToken.None);

        var reads = Assert.IsType<ReadProbeReport>(report.Reads);
        Assert.True(reads.TraceById.Requests >= 5, $"{reads.TraceById.Requests} trace-by-id reads");
        Assert.True(reads.Search.Requests >= 5, $"{reads.Search.Requests} searches");
        Assert.Equal(0, reads.TraceById.Failed + reads.TraceById.NotFound);
        Assert.Equal(0, reads.Search.Failed);
        Assert.True(reads.TraceById.MaxMs >= reads.TraceById.P50Ms && reads.TraceById.P50Ms > 0);
    }
}
