using System.Diagnostics;
using System.Globalization;
using Ariadne.Model;
using Ariadne.Pipeline.Log;
using Ariadne.Storage.ClickHouse;
using Ariadne.Storage.ClickHouse.Minutes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ariadne.Benchmarks;

/// <summary>
/// Dependencies over a day from ClickHouse's <c>edge_minutes</c> (issue 14: 24 h at 10M spans in ≤ 200 ms), and what
/// the minute feed costs per span. Spans of ten-span traces over <c>--services</c> services, spread evenly over
/// <c>--hours</c>, go through <see cref="ClickHouseMinuteFeed"/> as the pipeline hands them (one log record per
/// 100 spans), written every <c>--interval</c> seconds of the spans' time (the feed writes every 5 s of wall time, so
/// this is the row count a day at that span rate makes). Then the day's dependencies are asked for 7 times; the median
/// and the slowest are printed. <c>--with-spans</c> also stores the spans and times the query-time join over them
/// (what dependencies cost before the minutes table).
/// Usage: <c>dependencies [--url URL] [--database NAME] [--spans 10000000] [--services 30] [--hours 24] [--interval 5] [--with-spans]</c>
/// </summary>
internal static class DependenciesBench
{
    private const int SpansPerTrace = 10;
    private const int SpansPerRecord = 100;
    private const string Tenant = "bench";

    public static async Task RunAsync(string[] args)
    {
        var spans = long.Parse(Option(args, "--spans") ?? "10000000", CultureInfo.InvariantCulture);
        var services = int.Parse(Option(args, "--services") ?? "30", CultureInfo.InvariantCulture);
        var hours = int.Parse(Option(args, "--hours") ?? "24", CultureInfo.InvariantCulture);
        var interval = int.Parse(Option(args, "--interval") ?? "5", CultureInfo.InvariantCulture);
        var withSpans = args.Contains("--with-spans");
        var options = new ClickHouseOptions
        {
            Url = Option(args, "--url") ?? "http://127.0.0.1:8123",
            Database = Option(args, "--database") ?? "ariadne_deps_bench",
        };

        await using var store = new ClickHouseSpanStore(options);
        foreach (var node in store.Nodes)
        {
            await node.ExecuteAsync($"DROP DATABASE IF EXISTS {options.Database}", default);
        }

        var schema = await store.InitializeAsync();
        Console.WriteLine($"ClickHouse {schema.Version}; {spans:N0} spans over {hours} h, {services} services, minutes written every {interval} s of span time");

        // The whole window ends a minute ago, so the day asked for holds all of it.
        var end = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60 - 60);
        var start = end.AddHours(-hours);
        var stepNanos = hours * 3600L * 1_000_000_000 / Math.Max(1, spans / SpansPerTrace);
        var names = Enumerable.Range(0, services).Select(i => $"service-{i:D2}").ToArray();
        var resources = names.Select(n => new Resource { ServiceName = n, Attributes = [KeyValue.String("service.name", n)] }).ToArray();

        await using var feed = new ClickHouseMinuteFeed(store, "bench-node", fedFromLog: true, TimeSpan.FromHours(1), TimeProvider.System, NullLogger.Instance);
        var random = new Random(14);
        var batch = new List<Span>(SpansPerRecord);
        var observeTicks = 0L;
        var flushes = 0;
        var nextFlush = ToNanos(start) + interval * 1_000_000_000L;
        var written = 0L;
        var offset = 0L;
        var insert = Stopwatch.StartNew();
        for (long trace = 0; trace < spans / SpansPerTrace; trace++)
        {
            var t0 = ToNanos(start) + trace * stepNanos;
            AddTrace(batch, resources, random, trace, t0);
            if (batch.Count >= SpansPerRecord)
            {
                var began = Stopwatch.GetTimestamp();
                feed.Observe(Tenant, batch);
                feed.ObservedAt(new LogPosition(1, offset += 1000));
                observeTicks += Stopwatch.GetTimestamp() - began;
                if (withSpans)
                {
                    await store.AppendAsync(Tenant, batch.ToList(), default);
                }

                written += batch.Count;
                batch.Clear();
            }

            if (t0 >= nextFlush)
            {
                await feed.FlushAsync();
                flushes++;
                nextFlush += interval * 1_000_000_000L;
            }
        }

        await feed.FlushAsync();
        Console.WriteLine($"fed {written:N0} spans in {insert.Elapsed.TotalSeconds:F1} s ({flushes:N0} writes); feed CPU {observeTicks * 1e9 / Stopwatch.Frequency / Math.Max(1, written):F0} ns/span on the dispatch thread");
        var rows = await store.QueryRowsAsync($"SELECT count(), sum(calls) FROM {schema.Table("edge_minutes")}", default);
        Console.WriteLine($"edge_minutes: {long.Parse(rows[0][0], CultureInfo.InvariantCulture):N0} rows, {long.Parse(rows[0][1], CultureInfo.InvariantCulture):N0} calls");

        await TimeAsync("dependencies, 24 h, from edge_minutes", () => store.GetDependenciesAsync(Tenant, end, TimeSpan.FromHours(hours), default).AsTask());
        if (withSpans)
        {
            store.HasMinuteFeed = false;
            await TimeAsync("dependencies, 24 h, joining spans", () => store.GetDependenciesAsync(Tenant, end, TimeSpan.FromHours(hours), default).AsTask());
        }
    }

    private static void AddTrace(List<Span> batch, Resource[] resources, Random random, long trace, long t0)
    {
        var traceId = new TraceId(0x00be0c4000000000UL + (ulong)trace, (ulong)trace * 0x9e3779b97f4a7c15UL + 1);
        for (var i = 0; i < SpansPerTrace; i++)
        {
            // A root at the first services, then each span a child of an earlier one, mostly in another service.
            var parent = i == 0 ? 0 : random.Next(i) + 1;
            var resource = resources[i == 0 ? random.Next(Math.Min(3, resources.Length)) : random.Next(resources.Length)];
            var start = t0 + i * 1_000_000L;
            batch.Add(new Span
            {
                TraceId = traceId,
                SpanId = new SpanId((ulong)i + 1),
                ParentSpanId = i == 0 ? default : new SpanId((ulong)parent),
                Name = $"op-{i % 4}",
                Kind = i == 0 ? SpanKind.Server : SpanKind.Internal,
                StartTimeUnixNano = start,
                EndTimeUnixNano = start + random.Next(1, 200) * 1_000_000L,
                StatusCode = random.Next(100) == 0 ? StatusCode.Error : StatusCode.Unset,
                Resource = resource,
            });
        }
    }

    private static async Task TimeAsync(string what, Func<Task<IReadOnlyList<DependencyLink>>> query)
    {
        var links = await query(); // warm-up: marks and parts in the page cache
        var times = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            var watch = Stopwatch.StartNew();
            links = await query();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        Console.WriteLine($"{what}: {links.Count} edges, {links.Sum(l => l.CallCount):N0} calls; median {times[3]:F0} ms, slowest {times[^1]:F0} ms");
    }

    private static long ToNanos(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks * 100;

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
