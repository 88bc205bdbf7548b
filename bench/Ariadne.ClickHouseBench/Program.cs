// Loads realistic checkout traces into ClickHouse through Ariadne's engine and measures insert rate, stored
// bytes per span, trace-by-id and search latency. Usage (docs/PERFORMANCE.md, "ClickHouse engine"):
//   dotnet run -c Release --project bench/Ariadne.ClickHouseBench -- --url http://127.0.0.1:8123 [--spans 2000000]
//       [--cluster NAME (with every node in --url, comma-separated)] [--database bench] [--queries 300]
using System.Diagnostics;
using System.Globalization;
using Ariadne.ClickHouseBench;
using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.ClickHouse;

var settings = Args.Parse(args);
var options = new ClickHouseOptions { Url = settings.Url, Cluster = settings.Cluster, Database = settings.Database };
await using var store = new ClickHouseSpanStore(options);
var schema = await store.InitializeAsync();
Console.WriteLine($"ClickHouse {schema.Version}, database {schema.Database}{(schema.IsCluster ? ", cluster " + schema.Cluster : string.Empty)}, {Environment.ProcessorCount} cores");

var end = DateTimeOffset.UtcNow;
var generator = new CheckoutGenerator(seed: 42, start: end.AddHours(-1), end: end);
Console.Write($"generating {settings.Spans:N0} spans… ");
var batches = generator.Batches(settings.Spans, spansPerBatch: 1000).ToList();
Console.WriteLine($"{batches.Count} batches of ~1000 (an OTLP export each)");

var clock = Stopwatch.StartNew();
var next = -1;
await Task.WhenAll(Enumerable.Range(0, settings.Producers).Select(_ => Task.Run(async () =>
{
    int i;
    while ((i = Interlocked.Increment(ref next)) < batches.Count)
    {
        await store.AppendAsync("bench", batches[i], default);
    }
})));
clock.Stop();
var total = batches.Sum(b => b.Count);
Console.WriteLine($"insert: {total:N0} spans in {clock.Elapsed.TotalSeconds:F1} s = {total / clock.Elapsed.TotalSeconds:N0} spans/s ({settings.Producers} concurrent exporters)");

foreach (var node in store.Nodes)
{
    foreach (var table in new[] { "spans", "trace_index", "operations", "red_minutes" })
    {
        await node.ExecuteAsync($"OPTIMIZE TABLE {schema.LocalTable(table)} FINAL", default);
    }
}

long spanBytes = 0, allBytes = 0, rows = 0;
foreach (var node in store.Nodes)
{
    var parts = await node.QueryRowsAsync(
        $"SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE active AND database = '{schema.Database}' GROUP BY table", default);
    foreach (var p in parts)
    {
        var bytes = long.Parse(p[2], CultureInfo.InvariantCulture);
        allBytes += bytes;
        if (p[0] == schema.LocalTableName("spans"))
        {
            spanBytes += bytes;
            rows += long.Parse(p[1], CultureInfo.InvariantCulture);
        }
    }
}

Console.WriteLine($"stored: {rows:N0} span rows, spans table {spanBytes / (double)rows:F1} B/span, with trace index and aggregates {allBytes / (double)rows:F1} B/span");

var random = new Random(7);
var ids = generator.TraceIds;
var byId = new List<double>();
for (var q = 0; q < settings.Queries; q++)
{
    var id = ids[random.Next(ids.Count)];
    var t = Stopwatch.StartNew();
    var trace = await store.GetTraceAsync("bench", id, default);
    byId.Add(t.Elapsed.TotalMilliseconds);
    if (trace.Count == 0)
    {
        throw new InvalidOperationException($"trace {id} not found");
    }
}

Report("trace by id", byId);

var search = new List<double>();
var found = 0;
for (var q = 0; q < settings.Queries; q++)
{
    // Jaeger UI's usual searches: a service with an operation, or with a tag; the last hour; at least 5 ms.
    var (service, operations) = CheckoutGenerator.Services[random.Next(CheckoutGenerator.Services.Length)];
    var query = new TraceQuery
    {
        ServiceName = service,
        OperationName = q % 2 == 0 ? operations[random.Next(operations.Length)] : null,
        Tags = q % 2 == 0 ? new Dictionary<string, string>()
            : service == "gateway" ? new Dictionary<string, string> { ["customer.tier"] = "gold" }
            : new Dictionary<string, string> { ["rpc.system"] = "grpc" },
        MinDuration = TimeSpan.FromMilliseconds(5),
        StartTimeMin = end.AddHours(-1),
        StartTimeMax = end,
        Limit = 20,
    };
    var t = Stopwatch.StartNew();
    found += (await store.FindTracesAsync("bench", query, default)).Count;
    search.Add(t.Elapsed.TotalMilliseconds);
}

Report($"search (service + operation or tag, min duration, 1 h, limit 20; {found / (double)settings.Queries:F1} traces/answer)", search);

var deps = Stopwatch.StartNew();
var links = await store.GetDependenciesAsync("bench", end, TimeSpan.FromHours(1), default);
Console.WriteLine($"dependencies over 1 h: {links.Count} edges in {deps.Elapsed.TotalMilliseconds:F0} ms");

static void Report(string what, List<double> samples)
{
    samples.Sort();
    double P(double p) => samples[Math.Min(samples.Count - 1, (int)(p * samples.Count))];
    Console.WriteLine($"{what}: p50 {P(0.50):F1} ms, p99 {P(0.99):F1} ms over {samples.Count} queries");
}
