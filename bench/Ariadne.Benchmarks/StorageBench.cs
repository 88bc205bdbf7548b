using System.Diagnostics;
using System.Globalization;
using Ariadne.Model;
using Ariadne.Query;
using Ariadne.Search;
using Ariadne.Storage;
using Ariadne.Storage.ClickHouse;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Embedded.Blocks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ariadne.Benchmarks;

/// <summary>
/// The storage figures of docs/PERFORMANCE.md, for either engine on the same data and queries: ingest through
/// <see cref="ISpanStore"/> (8 writers, 500-span batches of <see cref="RealisticSpans"/>), stored bytes per span,
/// trace by id, four searches over a random hour.
/// <list type="bullet">
/// <item>embedded: durable appends (WAL fsync), then the final head cut and one compaction; bytes are block files.</item>
/// <item>clickhouse: an append returns once ClickHouse has the rows (no local WAL), then OPTIMIZE FINAL; bytes are
/// the active parts of every table (spans, trace index, aggregates), from system.parts.</item>
/// </list>
/// CPU figures are the whole machine's (/proc/stat), so the ClickHouse server's work counts as the embedded
/// engine's does: run on an otherwise idle machine.
/// </summary>
internal static class StorageBench
{
    private const int Writers = 8;
    private const int BatchSpans = 500;
    private const string Tenant = "default";

    /// <summary>
    /// Usage: <c>[spans] [dir] [--engine embedded|clickhouse] [--url URL[,URL]] [--cluster NAME] [--database NAME]
    /// [--scattered] [--row-group N] [--compaction-window MINUTES] [--data shop|wide] [--spread-hours H]</c>. With the
    /// embedded engine, spans 0 and an existing dir re-runs the queries over what the dir holds. <c>--data wide</c> is
    /// issue 16's data (<see cref="WideAttributeSpans"/>) and queries; <c>--spread-hours</c> the time the data covers
    /// (default 2; the issue's run: 22, arriving in time order).
    /// </summary>
    public static async Task RunAsync(string[] args)
    {
        var totalSpans = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? long.Parse(args[0], CultureInfo.InvariantCulture) : 2_000_000;
        var directory = args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal) ? args[1] : null;
        var engine = Option(args, "--engine") ?? "embedded";
        var now = DateTimeOffset.UtcNow;
        var spread = TimeSpan.FromHours(double.Parse(Option(args, "--spread-hours") ?? "2", CultureInfo.InvariantCulture));
        var wide = (Option(args, "--data") ?? "shop") switch
        {
            "shop" => false,
            "wide" => true,
            var other => throw new ArgumentException($"--data {other}: use shop or wide."),
        };
        Func<int, DateTimeOffset, TimeSpan, ITraceGenerator> generator = wide
            ? (seed, from, over) => new WideAttributeSpans(seed, from, over)
            : (seed, from, over) => new RealisticSpans(seed, from, over);
        var dataStart = now - spread;

        await using var target = engine switch
        {
            "embedded" => OpenEmbedded(args, directory ?? Directory.CreateTempSubdirectory("ariadne-bench-").FullName),
            "clickhouse" => await OpenClickHouseAsync(args),
            _ => throw new ArgumentException($"--engine {engine}: use embedded or clickhouse."),
        };
        List<TraceId> ids;
        if (totalSpans > 0)
        {
            ids = await IngestAsync(target, totalSpans, dataStart, spread, args.Contains("--scattered"), generator);
        }
        else
        {
            (dataStart, spread) = target.StoredTimeRange();
            ids = (await target.Store.FindTracesAsync(Tenant, new TraceQuery { StartTimeMin = dataStart, StartTimeMax = dataStart + spread, Limit = 2000 }, default))
                .Select(t => t[0].TraceId).ToList();
        }

        var (spans, bytes, layout) = await target.MeasureAsync();
        Console.WriteLine($"stored ({engine}): {spans:N0} spans, {bytes:N0} bytes = {(double)bytes / spans:F1} B/span in {layout}; data {dataStart:u} + {spread}");
        target.PrintBytesByColumn(spans);
        var windows = (Option(args, "--window-hours") ?? "1").Split(',').Select(h => TimeSpan.FromHours(double.Parse(h, CultureInfo.InvariantCulture))).ToList();
        foreach (var window in windows)
        {
            await QueryAsync(target.Store, ids, dataStart, spread, wide, window, lookups: window == windows[0]);
        }

        if (engine == "embedded" && directory is null)
        {
            target.DeleteData();
        }
    }

    private static async Task<List<TraceId>> IngestAsync(BenchTarget target, long totalSpans, DateTimeOffset dataStart, TimeSpan spread, bool scattered,
        Func<int, DateTimeOffset, TimeSpan, ITraceGenerator> generator)
    {
        var generatorWatch = Stopwatch.StartNew();
        var probe = generator(99, dataStart, spread);
        long generated = 0;
        while (generated < 200_000)
        {
            generated += probe.NextTrace().Count;
        }

        var generatorRate = generated / generatorWatch.Elapsed.TotalSeconds;
        Console.WriteLine($"generator alone: {generatorRate:N0} spans/s on one core");
        var sampled = new List<TraceId>[Writers];
        long written = 0;
        var cpu = MachineCpu.Start();
        var ingestWatch = Stopwatch.StartNew();
        long peakRss = 0;
        var ticks = 0;
        using var progress = new Timer(_ =>
        {
            var rss = Process.GetCurrentProcess().WorkingSet64;
            peakRss = Math.Max(peakRss, rss);
            if (++ticks % 10 == 0)
            {
                // RSS against spans stored, and the blocks waiting for compaction, over time (issue 16 item 3).
                Console.WriteLine($"progress: {ingestWatch.Elapsed.TotalSeconds:F0} s, {Interlocked.Read(ref written):N0} spans, RSS {rss / 1048576} MiB{target.Backlog}");
            }

            Console.Error.Write($"\ringest: {Interlocked.Read(ref written):N0} of {totalSpans:N0} spans, {ingestWatch.Elapsed:mm\\:ss}");
        }, null, 0, 1000);
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var spans = generator(w, dataStart, spread);
            sampled[w] = [];
            var batch = new List<Span>(BatchSpans + 16);
            var traces = 0;
            while (Interlocked.Read(ref written) < totalSpans)
            {
                var trace = scattered ? spans.NextTrace() : spans.NextTrace((double)Interlocked.Read(ref written) / totalSpans);
                if (traces++ % 50 == 0)
                {
                    sampled[w].Add(trace[0].TraceId);
                }

                batch.AddRange(trace);
                if (batch.Count >= BatchSpans)
                {
                    await target.Store.AppendAsync(Tenant, batch, default);
                    Interlocked.Add(ref written, batch.Count);
                    batch = new List<Span>(BatchSpans + 16);
                }
            }
        })));
        var ingestSeconds = ingestWatch.Elapsed.TotalSeconds;
        var cores = cpu.CoresUsed();
        Console.Error.WriteLine();
        Console.WriteLine($"ingest: {written:N0} spans in {ingestSeconds:F1} s = {written / ingestSeconds:N0} spans/s ({Writers} writers x {BatchSpans}-span batches, {target.Acknowledgement}); " +
            $"machine CPU {cores:F2} cores, of which the generator ~{written / generatorRate / ingestSeconds:F2}; bench peak RSS {peakRss / 1048576} MiB");

        var finish = Stopwatch.StartNew();
        var what = await target.FinishIngestAsync();
        Console.WriteLine($"{what}: {finish.Elapsed.TotalSeconds:F1} s");
        return sampled.SelectMany(s => s).ToList();
    }

    /// <summary>
    /// With <paramref name="lookups"/>, 1,000 lookups of random stored traces; then searches over a random window of
    /// <paramref name="window"/>, limit 20. Issue 16's data (<paramref name="wide"/>): its search and one of each kind
    /// its 100M run asks for (service; service + operation; service + tag; tag only, rare and frequent; error=true;
    /// duration; a structural TraceQL query, run as the search APIs run it). The shop mix: a common filter
    /// (many matches: the newest data answers it), a rare tag value (a few traces), a selective
    /// service+operation+duration filter with fewer matches than the limit and no tag (every row of the window is
    /// read: the worst case), and an error search (a tag derived from the status).
    /// </summary>
    private static async Task QueryAsync(ISpanStore store, List<TraceId> ids, DateTimeOffset dataStart, TimeSpan spread, bool wide, TimeSpan window, bool lookups)
    {
        var random = new Random(7);
        if (lookups)
        {
            await LookupsAsync(store, ids, random);
        }

        if (wide)
        {
            // Issue 16's search first, then the kinds of search its 100M run asks for.
            await SearchAsync("issue 16: service+operation+tag+duration", _ => WideAttributeSpans.IssueSearch);
            await SearchAsync("service only", _ => new TraceQuery { ServiceName = "payments" });
            await SearchAsync("service+operation", _ => new TraceQuery { ServiceName = "inventory", OperationName = "inventory restock" });
            await SearchAsync("service+tag", r => new TraceQuery
            {
                ServiceName = "payments", Tags = new Dictionary<string, string> { ["session.id"] = "session-" + r.Next(10_000).ToString(CultureInfo.InvariantCulture) },
            });
            await SearchAsync("tag only (rare)", r => new TraceQuery
            {
                Tags = new Dictionary<string, string> { ["customer.id"] = "customer-" + r.Next(100_000).ToString(CultureInfo.InvariantCulture) },
            });
            await SearchAsync("tag only (frequent)", _ => new TraceQuery { Tags = new Dictionary<string, string> { ["customer.tier"] = "gold" } });
            await SearchAsync("error=true", _ => new TraceQuery { Tags = new Dictionary<string, string> { ["error"] = "true" } });
            await SearchAsync("duration > 50 ms", _ => new TraceQuery { MinDuration = TimeSpan.FromMilliseconds(50) });
            await StructuralAsync("""{ resource.service.name = "frontend" } >> { status = error }""");
            return;
        }

        await SearchAsync("service+tag+duration", _ => new TraceQuery
        {
            ServiceName = "orders", Tags = new Dictionary<string, string> { ["http.route"] = "/checkout" }, MinDuration = TimeSpan.FromMilliseconds(1),
        });
        await SearchAsync("service+rare tag", r => new TraceQuery
        {
            ServiceName = "users", Tags = new Dictionary<string, string> { ["user.id"] = "user-" + r.Next(100_000).ToString(CultureInfo.InvariantCulture) },
        });
        await SearchAsync("service+operation+duration (under limit)", _ => new TraceQuery
        {
            ServiceName = "orders", OperationName = "orders /login", MinDuration = TimeSpan.FromMilliseconds(4),
        });
        await SearchAsync("service+error", _ => new TraceQuery
        {
            ServiceName = "payments", Tags = new Dictionary<string, string> { ["error"] = "true" },
        });

        async Task SearchAsync(string name, Func<Random, TraceQuery> make)
        {
            var millis = new List<double>();
            var cpuMillis = new List<double>();
            var found = 0;
            for (var i = 0; i < 100; i++)
            {
                var windowStart = dataStart + TimeSpan.FromMinutes(random.Next((int)Math.Max(1, (spread - window).TotalMinutes)));
                var query = make(random) with { StartTimeMin = windowStart, StartTimeMax = windowStart + window, Limit = 20 };
                var queryCpu = MachineCpu.Start();
                var watch = Stopwatch.StartNew();
                found += (await store.FindTracesAsync(Tenant, query, default)).Count;
                millis.Add(watch.Elapsed.TotalMilliseconds);
                cpuMillis.Add(queryCpu.CpuMilliseconds());
            }

            Report($"search {name}, {window.TotalHours:0.#} h, limit 20 ({found / 100.0:F1} traces per answer)", millis);
            Report("    its machine CPU time", cpuMillis);
        }

        // A TraceQL query as the search APIs run it (TraceQueryService.SearchAsync): the store finds candidates by what
        // the query pushes down, then the whole expression is evaluated per trace.
        async Task StructuralAsync(string text)
        {
            var query = SearchQuery.Parse(text);
            var millis = new List<double>();
            var cpuMillis = new List<double>();
            var found = 0;
            for (var i = 0; i < 100; i++)
            {
                var windowStart = dataStart + TimeSpan.FromMinutes(random.Next((int)Math.Max(1, (spread - window).TotalMinutes)));
                var queryCpu = MachineCpu.Start();
                var watch = Stopwatch.StartNew();
                var candidates = await store.FindTracesAsync(Tenant, query.PushDown(windowStart, windowStart + window, TraceQueryService.SampleLimit), default);
                found += query.Hits(candidates, 20).Count;
                millis.Add(watch.Elapsed.TotalMilliseconds);
                cpuMillis.Add(queryCpu.CpuMilliseconds());
            }

            Report($"search structural {text}, {window.TotalHours:0.#} h, limit 20 ({found / 100.0:F1} traces per answer)", millis);
            Report("    its machine CPU time", cpuMillis);
        }
    }

    /// <summary>1,000 lookups of random stored traces.</summary>
    private static async Task LookupsAsync(ISpanStore store, List<TraceId> ids, Random random)
    {
        var lookups = new List<double>();
        var cpu = MachineCpu.Start();
        for (var i = 0; i < 1000; i++)
        {
            var id = ids[random.Next(ids.Count)];
            var watch = Stopwatch.StartNew();
            var trace = await store.GetTraceAsync(Tenant, id, default);
            lookups.Add(watch.Elapsed.TotalMilliseconds);
            if (trace.Count == 0)
            {
                throw new InvalidOperationException($"trace {id} not found");
            }
        }

        Console.WriteLine($"trace by id: {cpu.CpuMilliseconds() / lookups.Count:F2} ms of machine CPU per lookup");
        Report("trace by id", lookups);
    }

    private static void Report(string what, List<double> millis)
    {
        millis.Sort();
        double P(double q) => millis[Math.Min(millis.Count - 1, (int)(q * millis.Count))];
        Console.WriteLine($"{what}: p50 {P(0.5):F1} ms, p99 {P(0.99):F1} ms, max {millis[^1]:F1} ms over {millis.Count}");
    }

    private static string? Option(string[] args, string name) =>
        Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    private static BenchTarget OpenEmbedded(string[] args, string directory)
    {
        var options = new EmbeddedStorageOptions();
        if (Option(args, "--row-group") is { } rowGroup)
        {
            options.RowGroupSpans = int.Parse(rowGroup, CultureInfo.InvariantCulture);
        }

        if (Option(args, "--compaction-window") is { } window)
        {
            options.CompactionWindow = TimeSpan.FromMinutes(int.Parse(window, CultureInfo.InvariantCulture));
        }

        return new EmbeddedTarget(EmbeddedSpanStore.Open(directory, options, TimeProvider.System, NullLogger.Instance));
    }

    private static async Task<BenchTarget> OpenClickHouseAsync(string[] args)
    {
        var options = new ClickHouseOptions
        {
            Url = Option(args, "--url") ?? "http://127.0.0.1:8123",
            Cluster = Option(args, "--cluster"),
            Database = Option(args, "--database") ?? "ariadne_bench",
        };

        // A fresh database each run, so the bytes and the answers are this run's data only.
        var store = new ClickHouseSpanStore(options);
        foreach (var node in store.Nodes)
        {
            await node.ExecuteAsync($"DROP DATABASE IF EXISTS {options.Database}", default);
        }

        var schema = await store.InitializeAsync();
        Console.WriteLine($"ClickHouse {schema.Version}, database {schema.Database}{(schema.IsCluster ? ", cluster " + schema.Cluster : string.Empty)}");
        return new ClickHouseTarget(store, schema);
    }

    private abstract class BenchTarget : IAsyncDisposable
    {
        public abstract ISpanStore Store { get; }

        public abstract string Acknowledgement { get; }

        /// <summary>Makes everything appended final and compact; returns what it did.</summary>
        public abstract Task<string> FinishIngestAsync();

        public abstract Task<(long Spans, long Bytes, string Layout)> MeasureAsync();

        public virtual (DateTimeOffset Start, TimeSpan Spread) StoredTimeRange() =>
            throw new InvalidOperationException("Re-running the queries over stored data (spans 0) is for the embedded engine; give a span count.");

        public virtual void DeleteData()
        {
        }

        public virtual void PrintBytesByColumn(long spans)
        {
        }

        /// <summary>What waits for compaction, as a suffix of the progress line.</summary>
        public virtual string Backlog => string.Empty;

        public ValueTask DisposeAsync() => Store.DisposeAsync();
    }

    private sealed class EmbeddedTarget(EmbeddedSpanStore store) : BenchTarget
    {
        public override ISpanStore Store => store;

        public override string Acknowledgement => "durable: WAL fsync before the append returns";

        public override async Task<string> FinishIngestAsync()
        {
            await store.CutHeadAsync();
            var compactions = await store.CompactAsync();
            return $"final head cut and compaction ({compactions} merges)";
        }

        public override Task<(long Spans, long Bytes, string Layout)> MeasureAsync()
        {
            var stats = store.GetStats();
            return Task.FromResult((stats.Spans, stats.Bytes, $"{store.ListBlocks().Count} blocks"));
        }

        public override (DateTimeOffset Start, TimeSpan Spread) StoredTimeRange()
        {
            var blocks = store.ListBlocks();
            var start = DateTimeOffset.UnixEpoch.AddTicks(blocks.Min(b => b.MinStartUnixNano) / 100);
            return (start, DateTimeOffset.UnixEpoch.AddTicks(blocks.Max(b => b.MaxStartUnixNano) / 100) - start);
        }

        public override void DeleteData() => Directory.Delete(store.DataDirectory, recursive: true);

        public override string Backlog => $", {store.BlockCount} blocks";

        public override void PrintBytesByColumn(long spans) =>
            Console.WriteLine(string.Join(Environment.NewLine, BlockBytes.Lines(store.DataDirectory, spans).Select(line => "    " + line)));
    }

    private sealed class ClickHouseTarget(ClickHouseSpanStore store, ClickHouseSchema schema) : BenchTarget
    {
        public override ISpanStore Store => store;

        public override string Acknowledgement => "ClickHouse has the rows before the append returns";

        public override async Task<string> FinishIngestAsync()
        {
            foreach (var node in store.Nodes)
            {
                foreach (var (table, _, _) in ClickHouseSchema.PartitionedTables)
                {
                    await node.ExecuteAsync($"OPTIMIZE TABLE {schema.LocalTable(table)} FINAL", default);
                }
            }

            return "OPTIMIZE FINAL of every table";
        }

        public override async Task<(long Spans, long Bytes, string Layout)> MeasureAsync()
        {
            var stats = await store.RefreshStatsAsync(default);
            return (stats.Spans, stats.Bytes, "active parts of every table (spans, trace index, aggregates)");
        }
    }

    /// <summary>CPU time of the whole machine (every process) since <see cref="Start"/>, from /proc/stat.</summary>
    private readonly struct MachineCpu
    {
        private readonly long _busyTicks;
        private readonly long _startTimestamp;

        private MachineCpu(long busyTicks, long startTimestamp)
        {
            _busyTicks = busyTicks;
            _startTimestamp = startTimestamp;
        }

        public static MachineCpu Start() => new(BusyTicks(), Stopwatch.GetTimestamp());

        public double CpuMilliseconds() => (BusyTicks() - _busyTicks) * 10.0;

        public double CoresUsed() => CpuMilliseconds() / Stopwatch.GetElapsedTime(_startTimestamp).TotalMilliseconds;

        /// <summary>user + nice + system + irq + softirq + steal of the "cpu" line, in USER_HZ (100 per second).</summary>
        private static long BusyTicks()
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return new[] { 1, 2, 3, 6, 7, 8 }.Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture));
        }
    }
}
