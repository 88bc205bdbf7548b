using Ariadne.Alerts;
using Ariadne.Analysis;
using Ariadne.Model;
using Ariadne.Query;
using Ariadne.Storage.Memory;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace Ariadne.Tests.Alerts;

/// <summary>
/// Alert rules read RED counted before sampling: with tail sampling keeping every error trace and a tenth of the
/// rest, stored spans would overstate the error rate tenfold; the pre-sampling window does not. Windows count whole
/// minutes of span start (the clock here sits on a minute boundary, so they are exact).
/// </summary>
public sealed class SpanMetricsRedSourceTests
{
    private static readonly Resource s_orders = new() { ServiceName = "orders" };
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly SpanMetricsAggregator _metrics = new(Metrics.NewCustomRegistry());
    private readonly MemorySpanStore _store = new(100_000);
    private ulong _nextId = 1;

    [Fact]
    public async Task Error_rate_and_latency_come_from_every_span_not_from_the_sample_that_was_stored()
    {
        var source = new SpanMetricsRedSource(_metrics, new StoredSpanRedSource(_store), _time);
        _time.Advance(TimeSpan.FromMinutes(6));

        // Five minutes of traffic: per minute 200 checkouts, 4 failed; durations 10..199 ms (the failures slowest).
        var stored = new List<Span>();
        for (var minute = 5; minute >= 1; minute--)
        {
            var spans = Minute(_time.GetUtcNow().AddMinutes(-minute), 200, errors: 4);
            _metrics.Observe("default", spans);
            stored.AddRange(spans.Where((s, i) => s.IsError || i % 10 == 0));
        }

        await _store.AppendAsync("default", stored, CancellationToken.None);
        var now = _time.GetUtcNow();
        var red = await source.GetAsync("default", "orders", "POST /checkout", now.AddMinutes(-5), now, CancellationToken.None);
        Assert.Equal(1000, red.Requests);
        Assert.Equal(20, red.Errors);
        Assert.Equal(0.02, red.ErrorRate, 6);
        Assert.InRange(red.P50Nanos, 90_000_000, 130_000_000);
        Assert.InRange(red.P99Nanos, 190_000_000, 250_000_000);

        var skewed = await new StoredSpanRedSource(_store).GetAsync("default", "orders", "POST /checkout", now.AddMinutes(-5), now, CancellationToken.None);
        Assert.True(skewed.ErrorRate > 0.15, $"stored spans give {skewed.ErrorRate}");

        // The whole service (every operation) and another tenant.
        Assert.Equal(1000, (await source.GetAsync("default", "orders", null, now.AddMinutes(-5), now, CancellationToken.None)).Requests);
        Assert.Equal(0, (await source.GetAsync("other", "orders", null, now.AddMinutes(-5), now, CancellationToken.None)).Requests);
    }

    [Fact]
    public async Task Consecutive_windows_count_each_minute_once_and_a_window_from_before_the_start_reads_storage()
    {
        var source = new SpanMetricsRedSource(_metrics, new StoredSpanRedSource(_store), _time);
        _time.Advance(TimeSpan.FromMinutes(10));
        var now = _time.GetUtcNow();
        for (var minute = 4; minute >= 1; minute--)
        {
            _metrics.Observe("default", Minute(now.AddMinutes(-minute), 100, errors: 0));
        }

        var last = await source.GetAsync("default", "orders", null, now.AddMinutes(-2), now, CancellationToken.None);
        var before = await source.GetAsync("default", "orders", null, now.AddMinutes(-4), now.AddMinutes(-2), CancellationToken.None);
        Assert.Equal(400, last.Requests + before.Requests);

        // The aggregator began counting at the source's creation, 10 minutes ago: an hour's window reads the store.
        var spans = Minute(now.AddMinutes(-30), 7, errors: 7);
        await _store.AppendAsync("default", spans, CancellationToken.None);
        var hour = await source.GetAsync("default", "orders", null, now.AddHours(-1), now, CancellationToken.None);
        Assert.Equal(7, hour.Requests);
        Assert.Equal(1.0, hour.ErrorRate);
    }

    /// <summary><paramref name="count"/> checkout spans spread over the minute from <paramref name="start"/>.</summary>
    private List<Span> Minute(DateTimeOffset start, int count, int errors)
    {
        var spans = new List<Span>();
        var startNanos = (start - DateTimeOffset.UnixEpoch).Ticks * 100;
        for (var i = 0; i < count; i++)
        {
            var id = _nextId++;
            var begin = startNanos + (i * (60_000_000_000L / count));
            var durationMs = 10 + (i * 190 / count);
            spans.Add(new Span
            {
                TraceId = new TraceId(9, id), SpanId = new SpanId(id), Name = "POST /checkout", Kind = SpanKind.Server, Resource = s_orders,
                StartTimeUnixNano = begin, EndTimeUnixNano = begin + (durationMs * 1_000_000L),
                StatusCode = i >= count - errors ? StatusCode.Error : StatusCode.Unset,
            });
        }

        return spans;
    }
}
