using Ariadne.Analysis;
using Ariadne.Configuration;
using Ariadne.Model;
using Ariadne.Sampling;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Embedded.Blocks;
using Ariadne.Tests.Pipeline;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace Ariadne.Tests.Reliability;

/// <summary>
/// One run of the durable write path through the real pipeline and embedded engine, on a fake clock: batches of two
/// tenants through the ingest log (a new segment every few records), tail decisions when sampling is on, a late span
/// of a kept trace, three head cuts (one of spans past retention), a compaction, a retention pass, segment deletion
/// and a clean stop. The durable steps go through <see cref="FaultyFiles"/>, which fails at most one of them.
/// <para>
/// Then two restarts with the real file system, each a new engine and pipeline: on the directory as the clean stop
/// left it, and on a copy taken just before the stop (what kill -9 would have left). Each must serve every
/// acknowledged span exactly once (a trace that tail sampling dropped: not at all; a trace past retention: whole or
/// not at all), hold no span in two served blocks, serve no damaged block, log a line for any block it quarantined,
/// and have span metrics (restored from their checkpoint, then the log) that count each acknowledged span once.
/// </para>
/// </summary>
internal sealed class FaultScenario(bool tailSampling, string root)
{
    public const string KeepAttribute = "fault.keep";
    private const string Shop = "shop";
    private const string Other = "other";
    private static readonly DateTimeOffset s_start = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(s_start);
    private readonly List<Sent> _sent = [];
    private long _nextId = 1;

    /// <summary>Runs the scenario with <paramref name="files"/>, restarts twice and returns what is wrong (empty when nothing is).</summary>
    public async Task<List<string>> RunAsync(FaultyFiles files)
    {
        var directory = Directory.CreateDirectory(Path.Combine(root, "live")).FullName;
        var problems = new List<string>();
        PipelineHarness live;
        try
        {
            live = Open(directory, _time, files, new SpanMetricsAggregator(Metrics.NewCustomRegistry()));
        }
        catch (IOException)
        {
            // The log's first segment could not be created: the server does not start, and nothing was acknowledged.
            await CheckRestartAsync(directory, "after a start that failed", problems);
            return problems;
        }

        string crashCopy;
        try
        {
            await SendAsync(live, Shop, old: true, keep: [true, true]);
            await DecideAndCutAsync(live);
            await SendAsync(live, Shop, old: false, keep: [true, false, true]);
            await SendAsync(live, Other, old: false, keep: [true]);
            await DecideAndCutAsync(live);
            var late = _sent.First(s => s.Tenant == Shop && !s.Old && s.Kept);
            await SendLateAsync(live, late);
            await SendAsync(live, Shop, old: false, keep: [false, true, true]);
            await DecideAndCutAsync(live);
            await TolerateAsync(() => live.Embedded.CompactAsync());
            await TolerateAsync(() => live.Embedded.ApplyRetentionAsync());
            await TolerateAsync(() => live.Pipeline.RunOnceAsync(default));
            crashCopy = live.CrashCopy();
        }
        finally
        {
            await live.DisposeAsync();
        }

        await CheckRestartAsync(directory, "after the clean stop", problems);
        await CheckRestartAsync(crashCopy, "after a kill -9 before the stop", problems);
        Directory.Delete(crashCopy, recursive: true);
        return problems;
    }

    private PipelineHarness Open(string directory, FakeTimeProvider time, Ariadne.Storage.IDurableFiles? files, SpanMetricsAggregator red) =>
        new(directory, time, tailSampling ? Policies() : null, new IngestOptions { LogSegmentBytes = 1024, AggregatesCheckpointInterval = TimeSpan.Zero },
            aggregators: [red],
            embedded: new EmbeddedStorageOptions
            {
                RowGroupSpans = 4,
                DetailedRetention = TimeSpan.FromDays(1),
                CompactionInterval = TimeSpan.FromDays(1),
                RetentionInterval = TimeSpan.FromDays(1),
            },
            files: files);

    /// <summary>Keeps the traces whose root has <see cref="KeepAttribute"/> = yes, drops the rest; decided 10 s after a trace's first span.</summary>
    private static SamplingOptions Policies()
    {
        var options = new SamplingOptions();
        options.Tail.DecisionWait = TimeSpan.FromSeconds(10);
        options.Tail.Policies.Add(new TailPolicyOptions
        {
            Name = "keep",
            Type = "string_attribute",
            String_Attribute = new StringAttributePolicyOptions { Key = KeepAttribute, Values = ["yes"] },
        });
        return options;
    }

    /// <summary>One batch per trace, so each is acknowledged or refused on its own.</summary>
    private async Task SendAsync(PipelineHarness harness, string tenant, bool old, bool[] keep)
    {
        foreach (var kept in keep)
        {
            var traceId = new TraceId(0xFA17, (ulong)_nextId++);
            var start = (old ? _time.GetUtcNow().AddDays(-3) : _time.GetUtcNow()).ToUnixTimeMilliseconds() * 1_000_000;
            var rootSpan = NewSpan(traceId, default, start, [KeyValue.String(KeepAttribute, kept ? "yes" : "no")]);
            List<Span> spans = [rootSpan, NewSpan(traceId, rootSpan.SpanId, start + 1000, []), NewSpan(traceId, rootSpan.SpanId, start + 2000, [])];
            var result = await harness.IngestAsync(tenant, spans);
            _sent.Add(new Sent(tenant, traceId, spans, result.Unavailable is null, kept || !tailSampling, old));
        }
    }

    private async Task SendLateAsync(PipelineHarness harness, Sent trace)
    {
        var span = NewSpan(trace.TraceId, trace.Spans[0].SpanId, trace.Spans[0].StartTimeUnixNano + 5000, []);
        var result = await harness.IngestAsync(trace.Tenant, [span]);
        _sent.Add(trace with { Spans = [span], Acknowledged = result.Unavailable is null });
    }

    private Span NewSpan(TraceId traceId, SpanId parent, long start, KeyValue[] attributes) => new()
    {
        TraceId = traceId,
        SpanId = new SpanId((ulong)_nextId++ * 0x9E3779B97F4A7C15UL),
        ParentSpanId = parent,
        Name = parent.IsEmpty ? "GET /fault" : "SELECT",
        Kind = parent.IsEmpty ? SpanKind.Server : SpanKind.Client,
        StartTimeUnixNano = start,
        EndTimeUnixNano = start + 1_000_000,
        Attributes = attributes,
        Resource = new Resource { ServiceName = "fault" },
    };

    /// <summary>As the server's loops do: decisions due (10 s later), a head cut, then segment deletion; a failure is logged there and retried.</summary>
    private async Task DecideAndCutAsync(PipelineHarness harness)
    {
        if (tailSampling)
        {
            _time.Advance(TimeSpan.FromSeconds(11));
            await TolerateAsync(() => harness.Pipeline.RunOnceAsync(default));
        }

        await TolerateAsync(() => harness.Embedded.CutHeadAsync());
        await TolerateAsync(() => harness.Pipeline.RunOnceAsync(default));
    }

    /// <summary>The server's maintenance and decision loops log a failed round and go on; so does the scenario.</summary>
    private static async Task TolerateAsync(Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (IOException)
        {
        }
    }

    private async Task CheckRestartAsync(string directory, string when, List<string> problems)
    {
        var time = new FakeTimeProvider(_time.GetUtcNow());
        var red = new SpanMetricsAggregator(Metrics.NewCustomRegistry());
        await using var restarted = Open(directory, time, files: null, red);

        // The span metrics restored from their checkpoint and the log: every acknowledged span counted, none twice
        // (a refused batch whose record still reached the log may count: it is in the log, and was sent).
        var counted = red.Series.Sum(s => s.Value.Calls);
        var acknowledgedSpans = _sent.Where(s => s.Acknowledged).Sum(s => s.Spans.Count);
        var sentSpans = _sent.Sum(s => s.Spans.Count);
        if (counted < acknowledgedSpans || counted > sentSpans)
        {
            problems.Add($"{when}: the span metrics count {counted} spans; {acknowledgedSpans} were acknowledged of {sentSpans} sent");
        }

        if (tailSampling)
        {
            time.Advance(TimeSpan.FromSeconds(11));
            await restarted.Pipeline.RunOnceAsync(default);
        }

        await restarted.Embedded.CutHeadAsync();
        foreach (var trace in _sent.GroupBy(s => (s.Tenant, s.TraceId)))
        {
            var served = (await restarted.Store.GetTraceAsync(trace.Key.Tenant, trace.Key.TraceId, default)).Select(s => s.SpanId).ToHashSet();
            var sent = trace.SelectMany(s => s.Spans).Select(s => s.SpanId).ToHashSet();
            var acknowledged = trace.Where(s => s.Acknowledged).SelectMany(s => s.Spans).Select(s => s.SpanId).ToHashSet();
            // The root batch carries the attribute the policy decides on. When it was refused, the decision rests on
            // what did reach the sampler (a late span alone is dropped; a refused batch that still reached the log is
            // decided at the restart), so only the checks that hold whatever the decision apply.
            var first = trace.First();
            var kept = !tailSampling ? true : first.Acknowledged ? first.Kept : (bool?)null;
            var name = $"{when}: trace {trace.Key.TraceId} of {trace.Key.Tenant}";
            if (!served.IsSubsetOf(sent))
            {
                problems.Add($"{name} serves spans that were never sent");
            }
            else if (kept == false && served.Count > 0)
            {
                problems.Add($"{name} was dropped by tail sampling but {served.Count} spans are served");
            }
            else if (kept == true && !acknowledged.IsSubsetOf(served) && !(first.Old && served.Count == 0))
            {
                problems.Add($"{name}: {acknowledged.Except(served).Count()} of {acknowledged.Count} acknowledged spans lost ({served.Count} served)");
            }
        }

        CheckBlocks(restarted, directory, when, problems);
    }

    /// <summary>Every block the engine serves opens with its checksums and decodes, and no span is in two of them.</summary>
    private static void CheckBlocks(PipelineHarness restarted, string directory, string when, List<string> problems)
    {
        var copies = new Dictionary<(string, TraceId, SpanId), int>();
        foreach (var meta in restarted.Embedded.ListBlocks())
        {
            var blockDirectory = Path.Combine(directory, "blocks", EmbeddedSpanStore.TenantDirectoryName(meta.Tenant), meta.Id);
            try
            {
                var block = Block.Open(blockDirectory, verifyData: true);
                foreach (var (traceId, spans) in block.ReadTraces())
                {
                    foreach (var span in spans)
                    {
                        copies[(meta.Tenant, traceId, span.SpanId)] = copies.GetValueOrDefault((meta.Tenant, traceId, span.SpanId)) + 1;
                    }
                }

                block.Release();
            }
            catch (Exception e) when (e is InvalidDataException or IOException or BlockCorruptedException)
            {
                problems.Add($"{when}: block {meta.Id} is served but damaged ({e.Message})");
            }
        }

        foreach (var ((tenant, traceId, spanId), count) in copies.Where(c => c.Value > 1))
        {
            problems.Add($"{when}: span {spanId} of trace {traceId} ({tenant}) is in {count} served blocks");
        }

        var quarantine = Path.Combine(directory, "quarantine");
        if (Directory.Exists(quarantine) && Directory.EnumerateDirectories(quarantine, "*", SearchOption.AllDirectories).Any()
            && !restarted.Log.Lines.Any(l => l.Contains("moved to", StringComparison.Ordinal)))
        {
            problems.Add($"{when}: a block was quarantined without a log line saying so");
        }
    }

    private sealed record Sent(string Tenant, TraceId TraceId, List<Span> Spans, bool Acknowledged, bool Kept, bool Old);
}
