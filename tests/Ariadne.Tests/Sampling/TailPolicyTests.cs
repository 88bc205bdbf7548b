using Ariadne.Configuration;
using Ariadne.Model;
using Ariadne.Sampling;
using Ariadne.Sampling.Tail;
using Microsoft.Extensions.Time.Testing;

namespace Ariadne.Tests.Sampling;

public sealed class TailPolicyTests
{
    private readonly SamplingTestData _data = new(21);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Policies_bind_from_a_config_file_with_the_collector_names()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ariadne-test-").FullName, "ariadne.json");
        File.WriteAllText(path, """
            { "Sampling": { "Tail": { "DecisionWait": "00:00:05", "Policies": [
              { "name": "errors", "type": "status_code", "status_code": { "status_codes": [ "ERROR" ] } },
              { "name": "slow", "type": "latency", "latency": { "threshold_ms": 800, "upper_threshold_ms": 60000 } },
              { "name": "checkout", "type": "string_attribute", "string_attribute": { "key": "http.route", "values": [ "/checkout.*" ], "enabled_regex_matching": true } },
              { "name": "rated", "type": "rate_limiting", "rate_limiting": { "spans_per_second": 100, "traces_per_second": 2, "per_operation": true } },
              { "name": "both", "type": "and", "and": { "and_sub_policy": [
                { "name": "big", "type": "numeric_attribute", "numeric_attribute": { "key": "order.value", "min_value": 100 } },
                { "name": "some", "type": "probabilistic", "probabilistic": { "sampling_percentage": 10, "hash_salt": "x" } } ] } },
              { "name": "mix", "type": "composite", "composite": { "max_total_spans_per_second": 1000, "policy_order": [ "a" ],
                "composite_sub_policy": [ { "name": "a", "type": "always_sample" } ], "rate_allocation": [ { "policy": "a", "percent": 50 } ] } }
            ] } } }
            """);
        var options = ConfigurationLoader.Load(path, new Dictionary<string, string?>());
        var policies = options.Sampling.Tail.Policies;
        Assert.Equal(TimeSpan.FromSeconds(5), options.Sampling.Tail.DecisionWait);
        Assert.Equal(["ERROR"], policies[0].Status_Code!.Status_Codes);
        Assert.Equal(60_000, policies[1].Latency!.Upper_Threshold_Ms);
        Assert.True(policies[2].String_Attribute!.Enabled_Regex_Matching);
        Assert.True(policies[3].Rate_Limiting!.Per_Operation);
        Assert.Equal(100, policies[4].And!.And_Sub_Policy[0].Numeric_Attribute!.Min_Value);
        Assert.Equal(50, policies[5].Composite!.Rate_Allocation[0].Percent);
    }

    [Fact]
    public void Invalid_policies_are_start_up_errors_naming_the_policy()
    {
        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(null, new Dictionary<string, string?>
        {
            ["Sampling:Tail:Policies:0:name"] = "slow",
            ["Sampling:Tail:Policies:0:type"] = "latency",
            ["Sampling:Tail:Policies:0:latency:threshold_ms"] = "0",
            ["Sampling:Tail:Policies:1:name"] = "typo",
            ["Sampling:Tail:Policies:1:type"] = "status",
            ["Sampling:Tail:Policies:2:name"] = "gold",
            ["Sampling:Tail:Policies:2:type"] = "string_attribute",
        }));
        Assert.Contains("Sampling:Tail:Policies[0] 'slow': latency.threshold_ms must be positive", error.Message, StringComparison.Ordinal);
        Assert.Contains("Sampling:Tail:Policies[1] 'typo': type 'status' is not a policy type", error.Message, StringComparison.Ordinal);
        Assert.Contains("Sampling:Tail:Policies[2] 'gold': type string_attribute needs a \"string_attribute\" block", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rate_limiting_keeps_traces_per_operation_while_the_budget_lasts_and_refills_with_time()
    {
        var policy = Build(new TailPolicyOptions { Name = "r", Type = "rate_limiting", Rate_Limiting = new() { Traces_Per_Second = 2, Per_Operation = true } });
        Assert.Equal(PolicyDecision.Sampled, policy.Evaluate(View("a")));
        Assert.Equal(PolicyDecision.Sampled, policy.Evaluate(View("a")));
        Assert.Equal(PolicyDecision.NotSampled, policy.Evaluate(View("a")));
        Assert.Equal(PolicyDecision.Sampled, policy.Evaluate(View("b")));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(PolicyDecision.Sampled, policy.Evaluate(View("a")));
        Assert.Equal(PolicyDecision.NotSampled, policy.Evaluate(View("a")));

        var spans = Build(new TailPolicyOptions { Name = "s", Type = "rate_limiting", Rate_Limiting = new() { Spans_Per_Second = 3 } });
        Assert.Equal(PolicyDecision.Sampled, spans.Evaluate(View("a", spans: 2)));
        Assert.Equal(PolicyDecision.NotSampled, spans.Evaluate(View("a", spans: 2)));
    }

    [Fact]
    public void Probabilistic_keeps_the_configured_share_and_the_same_traces_every_time()
    {
        var policy = Build(new TailPolicyOptions { Name = "p", Type = "probabilistic", Probabilistic = new() { Sampling_Percentage = 10 } });
        var views = Enumerable.Range(0, 20_000).Select(_ => View("a")).ToList();
        var kept = views.Count(v => policy.Evaluate(v) == PolicyDecision.Sampled);
        Assert.InRange(kept, 1_700, 2_300);
        Assert.Equal(kept, views.Count(v => policy.Evaluate(v) == PolicyDecision.Sampled));
    }

    [Fact]
    public void And_needs_every_sub_policy_and_inverted_matches_veto_or_keep()
    {
        var and = Build(new TailPolicyOptions
        {
            Name = "gold-and-slow",
            Type = "and",
            And = new()
            {
                And_Sub_Policy =
                [
                    new() { Name = "gold", Type = "string_attribute", String_Attribute = new() { Key = "customer.tier", Values = ["gold"] } },
                    new() { Name = "slow", Type = "latency", Latency = new() { Threshold_Ms = 100 } },
                ],
            },
        });
        Assert.Equal(PolicyDecision.Sampled, and.Evaluate(View("a", durationMs: 200, attributes: KeyValue.String("customer.tier", "gold"))));
        Assert.Equal(PolicyDecision.NotSampled, and.Evaluate(View("a", durationMs: 20, attributes: KeyValue.String("customer.tier", "gold"))));
        Assert.Equal(PolicyDecision.NotSampled, and.Evaluate(View("a", durationMs: 200)));

        var notHealth = Build(new TailPolicyOptions { Name = "h", Type = "string_attribute", String_Attribute = new() { Key = "http.route", Values = ["/health.*"], Enabled_Regex_Matching = true, Invert_Match = true } });
        Assert.Equal(PolicyDecision.InvertNotSampled, notHealth.Evaluate(View("a", attributes: KeyValue.String("http.route", "/healthz"))));
        Assert.Equal(PolicyDecision.InvertSampled, notHealth.Evaluate(View("a", attributes: KeyValue.String("http.route", "/checkout"))));
    }

    [Fact]
    public void Composite_gives_each_sub_policy_its_share_of_the_span_budget_in_order()
    {
        var composite = Build(new TailPolicyOptions
        {
            Name = "c",
            Type = "composite",
            Composite = new()
            {
                Max_Total_Spans_Per_Second = 10,
                Policy_Order = ["errors", "everything"],
                Composite_Sub_Policy =
                [
                    new() { Name = "errors", Type = "status_code", Status_Code = new() { Status_Codes = ["ERROR"] } },
                    new() { Name = "everything", Type = "always_sample" },
                ],
                Rate_Allocation = [new() { Policy = "errors", Percent = 60 }, new() { Policy = "everything", Percent = 40 }],
            },
        });
        // errors: 6 spans/s, everything: 4 spans/s.
        Assert.Equal(PolicyDecision.Sampled, composite.Evaluate(View("a", spans: 4)));
        Assert.Equal(PolicyDecision.NotSampled, composite.Evaluate(View("a", spans: 4)));
        Assert.Equal(PolicyDecision.Sampled, composite.Evaluate(View("a", spans: 6, status: StatusCode.Error)));
        Assert.Equal(PolicyDecision.NotSampled, composite.Evaluate(View("a", spans: 1, status: StatusCode.Error)));
    }

    private TailPolicy Build(TailPolicyOptions options)
    {
        var errors = new List<string>();
        var built = TailPolicyFactory.Build([options], "p", _time, errors);
        Assert.Empty(errors);
        return Assert.Single(built);
    }

    private TraceView View(string operation, int spans = 1, long durationMs = 10, StatusCode status = StatusCode.Unset, params KeyValue[] attributes)
    {
        var root = _data.Root("svc", operation, durationMs, status, attributes);
        var list = new List<Span> { root };
        for (var i = 1; i < spans; i++)
        {
            list.Add(_data.Span(root.TraceId, "svc", "child", root.SpanId));
        }

        return new TraceView("t", root.TraceId, list);
    }
}
