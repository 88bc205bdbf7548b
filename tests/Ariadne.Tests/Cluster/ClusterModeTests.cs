using System.Collections.Concurrent;
using Ariadne.Model;
using Ariadne.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Ariadne.Tests.Cluster;

/// <summary>
/// Issue 14's cluster test, CI-sized: three real `ariadne serve` nodes in cluster mode on one ClickHouse database
/// sharded over two clickhouse-server processes (a Distributed table), and a client that spreads every trace's spans
/// over the three nodes. bench/cluster.sh runs the same at load, longer.
/// </summary>
public sealed class ClusterModeTests(ClickHouseClusterFixture clickHouse, ITestOutputHelper output) : IClassFixture<ClickHouseClusterFixture>
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    private void Phase(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:F1} s  {what}");

    // Gold traces are always kept; a fifth of the others by chance. The decision waits 5 s after a trace's first span:
    // the three parts of a trace reach the owner at different times, seconds apart on a loaded machine.
    private const string TailPolicies =
        "export ARIADNE__Sampling__Tail__DecisionWait=00:00:05 " +
        "ARIADNE__Sampling__Tail__Policies__0__Name=gold ARIADNE__Sampling__Tail__Policies__0__Type=string_attribute " +
        "ARIADNE__Sampling__Tail__Policies__0__String_Attribute__Key=customer.tier ARIADNE__Sampling__Tail__Policies__0__String_Attribute__Values__0=gold " +
        "ARIADNE__Sampling__Tail__Policies__1__Name=rest ARIADNE__Sampling__Tail__Policies__1__Type=probabilistic " +
        "ARIADNE__Sampling__Tail__Policies__1__Probabilistic__Sampling_Percentage=20";

    [Fact]
    public async Task A_trace_spread_over_three_nodes_is_decided_once_by_its_owner_and_every_node_serves_it_whole_or_not_at_all()
    {
        await using var nodes = await ClusterNodes.StartAsync(clickHouse, TailPolicies);
        Phase("three nodes up");
        using var client = new SpreadingClient(Enumerable.Range(0, nodes.Count).Select(n => (Func<Uri?>)(() => nodes[n].OtlpHttp)).ToList());
        var traces = Enumerable.Range(0, 60).Select(i => (Tier: i % 3 == 0 ? "gold" : "silver", Spans: SpreadingClient.Trace(i % 3 == 0 ? "gold" : "silver"))).ToList();
        await Parallel.ForEachAsync(traces.Select((t, i) => (t, i)), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (trace, ct) =>
            Assert.True(await client.SendAsync(trace.t.Spans, trace.i, ct), $"trace {trace.i} was not acknowledged{Environment.NewLine}{nodes.Output}"));

        Phase("60 traces acknowledged");

        // Kept traces are stored a second or two after their last span; every node must then agree on each one.
        var views = new Dictionary<string, int[]>();
        async Task ReadViewsAsync()
        {
            foreach (var (_, spans) in traces)
            {
                var id = spans[0].TraceId.ToHex();
                views[id] = await Task.WhenAll(Enumerable.Range(0, nodes.Count).Select(n => nodes.ServedSpansAsync(n, id)));
            }
        }

        async Task<bool> SettledAsync()
        {
            // Gold traces first, from one node: the decisions of the others were taken in the same rounds.
            foreach (var (_, spans) in traces.Where(t => t.Tier == "gold"))
            {
                if (await nodes.ServedSpansAsync(0, spans[0].TraceId.ToHex()) != SpreadingClient.SpansPerTrace)
                {
                    return false;
                }
            }

            await ReadViewsAsync();
            return traces.All(t => views[t.Spans[0].TraceId.ToHex()] is var served
                && served.All(s => s == served[0]) && (served[0] == 0 || served[0] == SpreadingClient.SpansPerTrace)
                && (t.Tier != "gold" || served[0] == SpreadingClient.SpansPerTrace));
        }

        try
        {
            await Poll.UntilAsync(SettledAsync, "every trace whole or absent on every node", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));
        }
        catch (TimeoutException)
        {
            await ReadViewsAsync();
            var problems = traces.Select(t => (t.Tier, Id: t.Spans[0].TraceId.ToHex()))
                .Where(t => views[t.Id] is var s && (s.Any(n => n != s[0]) || (s[0] != 0 && s[0] != SpreadingClient.SpansPerTrace) || (t.Tier == "gold" && s[0] == 0)))
                .Select(t => $"{t.Tier} {t.Id}: [{string.Join(",", views[t.Id])}]");
            Assert.Fail($"traces served in part or differently by the nodes: {string.Join("; ", problems.Take(10))}{Environment.NewLine}{nodes.Output}");
        }

        Phase("every node serves every trace whole or not at all");
        var silver = traces.Where(t => t.Tier == "silver").Select(t => views[t.Spans[0].TraceId.ToHex()][0]).ToList();
        Assert.Contains(0, silver);
        for (var node = 0; node < nodes.Count; node++)
        {
            Assert.True(await nodes.CounterAsync(node, "ariadne_cluster_forwarded_spans_total") > 0, $"node {node} forwarded nothing");
        }

        // Dependencies count every call before sampling, each counted once by its trace's owner, and every node reads
        // the sum: 60 calls from frontend to each service, whichever node is asked.
        var expected = string.Join(",", Enumerable.Range(2, 5).Select(i => $"frontend>service-{i}:60"));
        var dependencies = new string[nodes.Count];
        try
        {
            await Poll.UntilAsync(async () =>
            {
                for (var node = 0; node < nodes.Count; node++)
                {
                    dependencies[node] = await nodes.DependenciesAsync(node);
                }

                return dependencies.All(d => d == expected);
            }, timeout: TimeSpan.FromSeconds(30), interval: TimeSpan.FromMilliseconds(500));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"dependencies per node, expected {expected} from each: {string.Join(" | ", dependencies)}");
        }
    }

    // Every checkout fails: the error rate is 1 over at least 40 calls.
    private const string CheckoutAlert =
        "export ARIADNE__Alerts__EvaluationInterval=00:00:01 ARIADNE__Alerts__Rules__0__Name=checkout-failing " +
        "ARIADNE__Alerts__Rules__0__Service=frontend ARIADNE__Alerts__Rules__0__Operation='GET /checkout' " +
        "ARIADNE__Alerts__Rules__0__Signal=ErrorRate ARIADNE__Alerts__Rules__0__Above=0.5 ARIADNE__Alerts__Rules__0__MinRequests=40";

    [Fact]
    public async Task RED_and_alerts_on_a_node_that_received_nothing_count_the_whole_cluster_traffic_and_a_retried_request_counts_once()
    {
        // Tail sampling stores a fifth of these traces: RED must come from the counts taken before it, every node's.
        await using var nodes = await ClusterNodes.StartAsync(clickHouse, $"{TailPolicies} {CheckoutAlert}", count: 2);
        Phase("two nodes up");

        // All traffic to node 0: it keeps the traces it owns and forwards the others to node 1, so each node's own
        // aggregators count about half of the 40 calls, fewer than the rule needs.
        var traces = Enumerable.Range(0, 40).Select(_ => SpreadingClient.Trace("silver", failed: true)).ToList();
        using (var toNode0 = new SpreadingClient([() => nodes[0].OtlpHttp]))
        {
            foreach (var trace in traces)
            {
                Assert.True(await toNode0.SendAsync(trace, 0, CancellationToken.None), $"a trace was not acknowledged{Environment.NewLine}{nodes.Output}");
            }
        }

        Phase("40 failed checkouts acknowledged by node 0");
        Assert.True(await nodes.CounterAsync(0, "ariadne_cluster_forwarded_spans_total") > 0, "node 0 forwarded nothing: node 1 owns no trace");
        await AssertRedOnEveryNodeAsync(nodes, (40, 40));
        Phase("both nodes count 40 calls, 40 failed");
        await Poll.UntilAsync(async () => await nodes.AlertStateAsync(1, "checkout-failing") == "firing",
            "the alert firing on node 1, which received no request", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
        Phase("the alert fires on node 1");

        // A client that got no answer sends the same requests again, here to the other node: the owners logged these
        // shares already, so they are acknowledged without being stored or counted again.
        using (var toNode1 = new SpreadingClient([() => nodes[1].OtlpHttp]))
        {
            foreach (var trace in traces)
            {
                Assert.True(await toNode1.SendAsync(trace, 0, CancellationToken.None), $"a retried trace was not acknowledged{Environment.NewLine}{nodes.Output}");
            }
        }

        var duplicates = await nodes.CounterAsync(0, "ariadne_duplicate_spans_total") + await nodes.CounterAsync(1, "ariadne_duplicate_spans_total");
        Assert.True(duplicates == traces.Count * SpreadingClient.SpansPerTrace, $"{duplicates} of {traces.Count * SpreadingClient.SpansPerTrace} retried spans recognised{Environment.NewLine}{nodes.Output}");
        await AssertRedOnEveryNodeAsync(nodes, (40, 40));
        Assert.Equal(string.Join(",", Enumerable.Range(2, 5).Select(i => $"frontend>service-{i}:40")), await nodes.DependenciesAsync(1));
    }

    [Fact]
    public async Task Log_records_sent_to_one_node_are_read_with_their_trace_on_every_node()
    {
        await using var nodes = await ClusterNodes.StartAsync(clickHouse, count: 2);
        Phase("two nodes up");
        var traces = Enumerable.Range(0, 10).Select(_ => SpreadingClient.Trace("silver")).ToList();
        using (var toNode0 = new SpreadingClient([() => nodes[0].OtlpHttp]))
        {
            foreach (var trace in traces)
            {
                Assert.True(await toNode0.SendAsync(trace, 0, CancellationToken.None), $"a trace was not acknowledged{Environment.NewLine}{nodes.Output}");
            }
        }

        // One log record per trace, from the root span, all to node 0 (not routed: each lands in the shared logs table).
        var records = string.Join(",", traces.Select(t => $$"""
            {"timeUnixNano":"{{t[0].StartTimeUnixNano}}","severityNumber":17,"body":{"stringValue":"card declined"},"traceId":"{{t[0].TraceId.ToHex()}}","spanId":"{{t[0].SpanId.ToHex()}}"}
            """));
        using var http = new HttpClient { BaseAddress = nodes[0].OtlpHttp };
        using var content = new StringContent(
            $$$"""{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}}]},"scopeLogs":[{"logRecords":[{{{records}}}]}]}]}""",
            System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("/v1/logs", content);
        Assert.True(response.IsSuccessStatusCode, $"/v1/logs answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");

        await Poll.UntilAsync(async () =>
        {
            foreach (var trace in traces)
            {
                for (var node = 0; node < nodes.Count; node++)
                {
                    if (await nodes.TraceLogsAsync(node, trace[0].TraceId.ToHex()) != 1)
                    {
                        return false;
                    }
                }
            }

            return true;
        }, "every trace's log record served by both nodes", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
    }

    private static async Task AssertRedOnEveryNodeAsync(ClusterNodes nodes, (long Calls, long Errors) expected)
    {
        var red = new (long Calls, long Errors)[nodes.Count];
        try
        {
            await Poll.UntilAsync(async () =>
            {
                for (var node = 0; node < nodes.Count; node++)
                {
                    red[node] = await nodes.RedAsync(node, "frontend", "GET /checkout");
                }

                return red.All(r => r == expected);
            }, timeout: TimeSpan.FromSeconds(30), interval: TimeSpan.FromMilliseconds(500));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"RED of GET /checkout per node, expected {expected} from each: {string.Join(" | ", red)}{Environment.NewLine}{nodes.Output}");
        }
    }

    [Fact]
    public async Task Kill_9_of_a_node_under_load_loses_no_acknowledged_span_and_the_others_keep_accepting()
    {
        await using var nodes = await ClusterNodes.StartAsync(clickHouse);
        Phase("three nodes up");
        using var client = new SpreadingClient(Enumerable.Range(0, nodes.Count).Select(n => (Func<Uri?>)(() => nodes.Running.Contains(n) ? nodes[n].OtlpHttp : null)).ToList());
        var acknowledged = new ConcurrentQueue<TraceId>();
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 3).Select(sender => Task.Run(async () =>
        {
            for (var i = sender; !stop.IsCancellationRequested; i += 3)
            {
                var trace = SpreadingClient.Trace("silver");
                try
                {
                    if (await client.SendAsync(trace, i, stop.Token))
                    {
                        acknowledged.Enqueue(trace[0].TraceId);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // The load stops; a trace cut short was not acknowledged.
                }
            }
        })).ToArray();

        await Poll.UntilAsync(() => Task.FromResult(acknowledged.Count >= 50), "50 traces acknowledged before the kill", TimeSpan.FromSeconds(60));
        await nodes.KillAsync(2);
        var atKill = acknowledged.Count;
        Phase($"node 2 killed after {atKill} acknowledged traces");
        await Poll.UntilAsync(() => Task.FromResult(acknowledged.Count >= atKill + 50), "50 more traces acknowledged by the two nodes left", TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await Task.WhenAll(senders);
        Phase($"load stopped after {acknowledged.Count} acknowledged traces");

        // The killed node comes back on its data directory: what it acknowledged and had not stored is in its ingest log.
        await nodes.StartAsync(2);
        Phase("node 2 up again");
        var missing = new List<string>();
        var waiting = acknowledged.ToHashSet();
        var asked = 0;
        try
        {
            await Poll.UntilAsync(async () =>
            {
                missing.Clear();
                foreach (var id in waiting.ToList())
                {
                    // Asked of each node in turn: any of them must serve every trace.
                    var served = await nodes.ServedSpansAsync(asked++ % nodes.Count, id.ToHex());
                    if (served == SpreadingClient.SpansPerTrace)
                    {
                        waiting.Remove(id);
                    }
                    else
                    {
                        missing.Add($"{id.ToHex()}: {served}");
                    }
                }

                return missing.Count == 0;
            }, timeout: TimeSpan.FromSeconds(60), interval: TimeSpan.FromMilliseconds(500));
        }
        catch (TimeoutException)
        {
            // Reported below with what was missing.
        }

        Phase("acknowledged traces checked");
        Assert.True(missing.Count == 0,
            $"{missing.Count} of {acknowledged.Count} acknowledged traces not served whole: {string.Join("; ", missing.Take(10))}{Environment.NewLine}{nodes.Output}");
        Assert.True(await nodes.CounterAsync(0, "ariadne_cluster_handed_on_spans_total") + await nodes.CounterAsync(1, "ariadne_cluster_handed_on_spans_total") > 0,
            "no span was handed to the next node while node 2 was down");
    }
}
