using System.Globalization;

namespace Ariadne.Demo;

/// <summary>
/// How `ariadne demo` sets the server up, so the shop's traffic exercises every part a real installation uses: the
/// embedded engine (durable, in its own directory), adaptive head sampling served to the shop's SDKs (Jaeger remote
/// sampler on the sampling port), tail sampling that keeps errors, slow traces and every payment and samples the rest,
/// and alert rules that the fault switches make fire (and normal traffic does not). Configuration keys, as a config file would set them.
/// </summary>
public static class DemoConfiguration
{
    /// <summary>The share of ordinary traces (no error, not slow, no payment) tail sampling keeps.</summary>
    public const int SampledPercent = 30;

    /// <summary>The shop gateway's port unless --gateway-port says otherwise (the port a shop service started by hand takes too).</summary>
    public const int GatewayPort = 8080;

    /// <summary>Shopper requests per second unless --rate says otherwise.</summary>
    public const double TrafficRate = 3;

    /// <summary>
    /// The error burst `ariadne demo` prints. Half of the gateway's requests fail during a burst; GatewayErrors looks at
    /// two minutes (of which a minute to two have been counted at each evaluation), so a burst of a minute takes the
    /// error rate well over 20 % at every clock phase, where a 30 s burst could stay under it.
    /// </summary>
    public const int ErrorBurstSeconds = 60;

    /// <summary>The slow-inventory delay `ariadne demo` prints: over InventorySlow's 300 ms, under the orders service's 1 s deadline.</summary>
    public const int SlowInventoryMs = 800;

    public static Dictionary<string, string?> Server(string dataDirectory) => new()
    {
        ["Storage"] = "embedded",
        ["DataDirectory"] = dataDirectory,

        // Head sampling: adaptive, aiming at 2 traces/s per operation, starting from 100 % (Jaeger starts at 0.1 %,
        // which would leave a fresh demo empty for minutes); the shop's few requests per second per operation stay at
        // 100 %, a faster --rate is sampled down. Never below 100 % for payments.
        ["Sampling:Mode"] = "adaptive",
        ["Sampling:Adaptive:TargetSamplesPerSecond"] = "2",
        ["Sampling:Adaptive:InitialSamplingProbability"] = "1",
        ["Sampling:BusinessCritical:0:Service"] = "payments",

        // Tail sampling: errors are always kept; so are slow traces, (business-critical) payments and traces of services
        // outside the shop; 30 % of the rest.
        ["Sampling:Tail:DecisionWait"] = "00:00:05",
        ["Sampling:Tail:Policies:0:Name"] = "slow",
        ["Sampling:Tail:Policies:0:Type"] = "latency",
        ["Sampling:Tail:Policies:0:Latency:Threshold_Ms"] = "1000",
        ["Sampling:Tail:Policies:1:Name"] = "sample",
        ["Sampling:Tail:Policies:1:Type"] = "probabilistic",
        ["Sampling:Tail:Policies:1:Probabilistic:Sampling_Percentage"] = SampledPercent.ToString(CultureInfo.InvariantCulture),

        // A service of your own, pointed at the demo's server, keeps every trace: sampling is for the shop's traffic,
        // and a first trace of one's own that the sampler drops looks like a broken setup.
        ["Sampling:Tail:Policies:2:Name"] = "outside-the-shop",
        ["Sampling:Tail:Policies:2:Type"] = "string_attribute",
        ["Sampling:Tail:Policies:2:String_Attribute:Key"] = "service.name",
        ["Sampling:Tail:Policies:2:String_Attribute:Values:0"] = $"^(?!({string.Join('|', DemoShop.Services)})$)",
        ["Sampling:Tail:Policies:2:String_Attribute:Enabled_Regex_Matching"] = "true",

        // Alerts that the fault switches trigger and normal traffic does not: about 5 % of the gateway's requests fail
        // (up to 10 % at start-up), inventory reserves in a few ms at the median, a product search in a few ms at p90.
        ["Alerts:EvaluationInterval"] = "00:00:15",
        ["Alerts:Rules:0:Name"] = "GatewayErrors",
        ["Alerts:Rules:0:Service"] = "gateway",
        ["Alerts:Rules:0:Signal"] = "ErrorRate",
        ["Alerts:Rules:0:Above"] = "0.2",
        ["Alerts:Rules:0:Window"] = "00:02:00",
        ["Alerts:Rules:0:Severity"] = "critical",
        ["Alerts:Rules:1:Name"] = "InventorySlow",
        ["Alerts:Rules:1:Service"] = "inventory",

        // Reservations only: the central-warehouse lookups (the timeout scenario) take a second each and are a third of
        // inventory's spans, which left its p50 at the mercy of chance; they are a fifth of the reservations.
        ["Alerts:Rules:1:Operation"] = "POST /shop.inventory.v1.Inventory/Reserve",
        ["Alerts:Rules:1:Signal"] = "Latency",
        ["Alerts:Rules:1:Percentile"] = "50",
        ["Alerts:Rules:1:Above"] = "300",
        ["Alerts:Rules:1:Window"] = "00:02:00",

        // During an error burst, when most checkouts fail before they reserve, a handful of reservations is no evidence.
        ["Alerts:Rules:1:MinRequests"] = "30",
        ["Alerts:Rules:2:Name"] = "CatalogSearchSlow",
        ["Alerts:Rules:2:Service"] = "catalog",
        ["Alerts:Rules:2:Operation"] = "GET /products",
        ["Alerts:Rules:2:Signal"] = "Latency",
        ["Alerts:Rules:2:Percentile"] = "90",
        ["Alerts:Rules:2:Above"] = "50",
        ["Alerts:Rules:2:Window"] = "00:02:00",
    };

    /// <summary>The shop's SDKs take their head-sampling probability from the server, as Jaeger's SDKs did.</summary>
    public static Dictionary<string, string> Shop(Uri samplingEndpoint) => new()
    {
        ["OTEL_TRACES_SAMPLER"] = "parentbased_jaeger_remote",
        ["OTEL_TRACES_SAMPLER_ARG"] = $"endpoint={samplingEndpoint.ToString().TrimEnd('/')},pollingIntervalMs=10000,initialSamplingRate=1",
    };
}
