using System.Diagnostics;
using System.Globalization;
using Ariadne.Benchmarks;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using BenchmarkDotNet.Running;
using Microsoft.Extensions.Logging.Abstractions;

// Embedded storage bench: ingest through the store with durability on (group-committed WAL fsyncs), then the
// figures docs/PERFORMANCE.md records.
// Usage: dotnet run -c Release --project bench/Ariadne.Benchmarks -- [spans] [dir] [--scattered] [--row-group N] [--compaction-window MINUTES]
//   spans 0 with an existing dir: only the query figures, over what the dir holds.
//   --scattered: trace start times uniform over the 2 hours instead of in arrival order (every block then covers
//   the whole range: the worst case for time pruning).
if (args.Length > 0 && args[0] == "block-write") { ProbeBlockWrite.Run(); return; }
if (args.Length > 0 && args[0] == "otlp-decode-cpu") { OtlpDecodeCpuBench.Run(args[1..]); return; }
if (args.Length > 0 && args[0] == "otlp-decode") { BenchmarkSwitcher.FromAssembly(typeof(OtlpDecodeBenchmarks).Assembly).Run(args[1..]); return; }
if (args.Length > 0 && args[0] == "tail-sampling") { await TailSamplingBench.RunAsync(args[1..]); return; }
var totalSpans = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 2_000_000;
var directory = args.Length > 1 ? args[1] : Directory.CreateTempSubdirectory("ariadne-bench-").FullName;
var scattered = args.Contains("--scattered");
const int Writers = 8;
const int BatchSpans = 500;
var now = DateTimeOffset.UtcNow;
var spread = TimeSpan.FromHours(2);
var dataStart = now - spread;

var options = new EmbeddedStorageOptions();
if (Array.IndexOf(args, "--row-group") is var rowGroupArg and >= 0)
{
    options.RowGroupSpans = int.Parse(args[rowGroupArg + 1], CultureInfo.InvariantCulture);
}

if (Array.IndexOf(args, "--compaction-window") is var windowArg and >= 0)
{
    options.CompactionWindow = TimeSpan.FromMinutes(int.Parse(args[windowArg + 1], CultureInfo.InvariantCulture));
}

var store = EmbeddedSpanStore.Open(directory, options, TimeProvider.System, NullLogger.Instance);
List<TraceId> ids;
if (totalSpans > 0)
{
    ids = await IngestAsync();
}
else
{
    var existing = store.ListBlocks();
    dataStart = DateTimeOffset.UnixEpoch.AddTicks(existing.Min(b => b.MinStartUnixNano) / 100);
    spread = DateTimeOffset.UnixEpoch.AddTicks(existing.Max(b => b.MaxStartUnixNano) / 100) - dataStart;
    ids = (await store.FindTracesAsync("default", new TraceQuery { StartTimeMin = dataStart, StartTimeMax = dataStart + spread, Limit = 2000 }, default))
        .Select(t => t[0].TraceId).ToList();
}

var stats = store.GetStats();
var blocks = store.ListBlocks();
Console.WriteLine($"stored: {stats.Spans:N0} spans, {stats.Bytes:N0} bytes = {(double)stats.Bytes / stats.Spans:F1} B/span in {blocks.Count} blocks; data {dataStart:u} + {spread}");

var random = new Random(7);
var lookups = new List<double>();
var lookupCpu = Process.GetCurrentProcess().TotalProcessorTime;
for (var i = 0; i < 1000; i++)
{
    var id = ids[random.Next(ids.Count)];
    var watch = Stopwatch.StartNew();
    var trace = await store.GetTraceAsync("default", id, default);
    lookups.Add(watch.Elapsed.TotalMilliseconds);
    if (trace.Count == 0)
    {
        throw new InvalidOperationException($"trace {id} not found");
    }
}

Console.WriteLine($"trace by id: {(Process.GetCurrentProcess().TotalProcessorTime - lookupCpu).TotalMilliseconds / lookups.Count:F2} ms process CPU per lookup");
Report("trace by id", lookups);

// Searches over a random 1-hour window, limit 20: a common filter (many matches: the newest data answers it), a
// rare tag value (a few traces: tag filters skip most row groups), a selective service+operation+duration filter
// with fewer matches than the limit and no tag (every row group of the window is read: the worst case), and an
// error search (a tag derived from the status, which no filter can skip).
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
await store.DisposeAsync();
if (args.Length < 2)
{
    Directory.Delete(directory, recursive: true);
}

async Task SearchAsync(string name, Func<Random, TraceQuery> make)
{
    var millis = new List<double>();
    var cpu = new List<double>();
    var found = 0;
    for (var i = 0; i < 100; i++)
    {
        var windowStart = dataStart + TimeSpan.FromMinutes(random.Next((int)Math.Max(1, spread.TotalMinutes - 60)));
        var query = make(random) with { StartTimeMin = windowStart, StartTimeMax = windowStart + TimeSpan.FromHours(1), Limit = 20 };
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        found += (await store.FindTracesAsync("default", query, default)).Count;
        millis.Add(watch.Elapsed.TotalMilliseconds);
        cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds);
    }

    Report($"search {name}, 1 h, limit 20 ({found / 100.0:F1} traces per answer)", millis);
    Report("    its process CPU time", cpu);

}

async Task<List<TraceId>> IngestAsync()
{
    var generatorWatch = Stopwatch.StartNew();
    var probe = new RealisticSpans(99, dataStart, spread);
    long generated = 0;
    while (generated < 200_000)
    {
        generated += probe.NextTrace().Count;
    }

    var generatorRate = generated / generatorWatch.Elapsed.TotalSeconds;
    Console.WriteLine($"generator alone: {generatorRate:N0} spans/s on one core");
    var sampled = new List<TraceId>[Writers];
    long written = 0;
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var ingestWatch = Stopwatch.StartNew();
    long peakRss = 0;
    using var rssTimer = new Timer(_ => peakRss = Math.Max(peakRss, Process.GetCurrentProcess().WorkingSet64), null, 0, 500);
    await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
    {
        var spans = new RealisticSpans(w, dataStart, spread);
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
                await store.AppendAsync("default", batch, default);
                Interlocked.Add(ref written, batch.Count);
                batch = new List<Span>(BatchSpans + 16);
            }
        }
    })));
    var ingestSeconds = ingestWatch.Elapsed.TotalSeconds;
    var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
    Console.WriteLine($"ingest: {written:N0} spans in {ingestSeconds:F1} s = {written / ingestSeconds:N0} spans/s (durable appends, {Writers} writers x {BatchSpans}-span batches); " +
        $"process CPU {cpuSeconds / ingestSeconds:F2} cores, of which the generator ~{written / generatorRate / ingestSeconds:F2}; peak RSS {peakRss / 1048576} MiB");

    var cutWatch = Stopwatch.StartNew();
    await store.CutHeadAsync();
    Console.WriteLine($"final head cut: {cutWatch.Elapsed.TotalSeconds:F1} s");
    var compactWatch = Stopwatch.StartNew();
    var compactions = await store.CompactAsync();
    Console.WriteLine($"compaction: {compactions} merges in {compactWatch.Elapsed.TotalSeconds:F1} s");
    return sampled.SelectMany(s => s).ToList();
}

static void Report(string what, List<double> millis)
{
    millis.Sort();
    double P(double q) => millis[Math.Min(millis.Count - 1, (int)(q * millis.Count))];
    Console.WriteLine($"{what}: p50 {P(0.5):F1} ms, p99 {P(0.99):F1} ms, max {millis[^1]:F1} ms over {millis.Count}");
}
