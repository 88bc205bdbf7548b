using System.Diagnostics;
using System.Globalization;
using Ariadne.Benchmarks;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using BenchmarkDotNet.Running;
using Microsoft.Extensions.Logging.Abstractions;

// Embedded storage bench: ingest through the store with durability on (group-committed WAL fsyncs), then the
// figures docs/PERFORMANCE.md records. Usage: dotnet run -c Release --project bench/Ariadne.Benchmarks -- [spans] [dir]
if (args.Length > 0 && args[0] == "block-write") { ProbeBlockWrite.Run(); return; }
if (args.Length > 0 && args[0] == "otlp-decode-cpu") { OtlpDecodeCpuBench.Run(args[1..]); return; }
if (args.Length > 0 && args[0] == "otlp-decode") { BenchmarkSwitcher.FromAssembly(typeof(OtlpDecodeBenchmarks).Assembly).Run(args[1..]); return; }
if (args.Length > 0 && args[0] == "tail-sampling") { await TailSamplingBench.RunAsync(args[1..]); return; }
var totalSpans = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 2_000_000;
var directory = args.Length > 1 ? args[1] : Directory.CreateTempSubdirectory("ariadne-bench-").FullName;
const int Writers = 8;
const int BatchSpans = 500;
var now = DateTimeOffset.UtcNow;
var spread = TimeSpan.FromHours(2);
var dataStart = now - spread;

var generatorWatch = Stopwatch.StartNew();
var probe = new RealisticSpans(99, dataStart, spread);
long generated = 0;
while (generated < 200_000)
{
    generated += probe.NextTrace().Count;
}

var generatorRate = generated / generatorWatch.Elapsed.TotalSeconds;
Console.WriteLine($"generator alone: {generatorRate:N0} spans/s on one core");

var options = new EmbeddedStorageOptions();
var store = EmbeddedSpanStore.Open(directory, options, TimeProvider.System, NullLogger.Instance);
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
        var trace = spans.NextTrace();
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
var stats = store.GetStats();
var blocks = store.ListBlocks();
Console.WriteLine($"stored: {stats.Spans:N0} spans, {stats.Bytes:N0} bytes = {(double)stats.Bytes / stats.Spans:F1} B/span in {blocks.Count} blocks");

var ids = sampled.SelectMany(s => s).ToArray();
var random = new Random(7);
var lookups = new List<double>();
for (var i = 0; i < 1000; i++)
{
    var id = ids[random.Next(ids.Length)];
    var watch = Stopwatch.StartNew();
    var trace = await store.GetTraceAsync("default", id, default);
    lookups.Add(watch.Elapsed.TotalMilliseconds);
    if (trace.Count == 0)
    {
        throw new InvalidOperationException($"trace {id} not found");
    }
}

Report("trace by id", lookups);

var searches = new List<double>();
var found = 0;
for (var i = 0; i < 100; i++)
{
    var windowStart = dataStart + TimeSpan.FromMinutes(random.Next(60));
    var query = new TraceQuery
    {
        ServiceName = "orders",
        Tags = new Dictionary<string, string> { ["http.route"] = "/checkout" },
        MinDuration = TimeSpan.FromMilliseconds(1),
        StartTimeMin = windowStart,
        StartTimeMax = windowStart + TimeSpan.FromHours(1),
        Limit = 20,
    };
    var watch = Stopwatch.StartNew();
    found += (await store.FindTracesAsync("default", query, default)).Count;
    searches.Add(watch.Elapsed.TotalMilliseconds);
}

Report($"search service+tag+duration, 1 h, limit 20 ({found / 100.0:F1} traces per answer)", searches);
await store.DisposeAsync();
if (args.Length < 2)
{
    Directory.Delete(directory, recursive: true);
}

static void Report(string what, List<double> millis)
{
    millis.Sort();
    double P(double q) => millis[Math.Min(millis.Count - 1, (int)(q * millis.Count))];
    Console.WriteLine($"{what}: p50 {P(0.5):F1} ms, p99 {P(0.99):F1} ms, max {millis[^1]:F1} ms over {millis.Count}");
}
