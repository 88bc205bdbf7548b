namespace Ariadne.Alerts;

/// <summary>
/// The <c>Alerts</c> section of the config file: rules on RED per service/operation, evaluated every
/// <see cref="EvaluationInterval"/>, sent to Alertmanager and/or a webhook.
/// </summary>
public sealed class AlertOptions
{
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Alertmanager's base address (alerts go to <c>/api/v2/alerts</c>); none to not send there.</summary>
    public string? AlertmanagerUrl { get; set; }

    /// <summary>An address that receives every state change as JSON (Alertmanager's webhook shape); none to not send.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>The UI's address as people reach it, for alert links; by default http://localhost:&lt;query port&gt;.</summary>
    public string? ExternalUrl { get; set; }

    /// <summary>The tenant whose spans a rule reads when it names none (<see cref="AlertRuleOptions.Tenant"/>).</summary>
    public string Tenant { get; set; } = "default";

    public List<AlertRuleOptions> Rules { get; set; } = [];
}

/// <summary>What a rule watches.</summary>
public enum AlertSignal
{
    /// <summary>Failed spans / all spans, 0–1.</summary>
    ErrorRate,

    /// <summary>A latency percentile, in milliseconds.</summary>
    Latency,

    /// <summary>Spans per second.</summary>
    Rate,
}

public sealed class AlertRuleOptions
{
    public string Name { get; set; } = string.Empty;

    public string Service { get; set; } = string.Empty;

    /// <summary>
    /// The tenant whose spans the rule reads, and who may see it: a tenant-bound token sees only its tenant's
    /// rules. None for <see cref="AlertOptions.Tenant"/>.
    /// </summary>
    public string? Tenant { get; set; }

    /// <summary>Span name; none for all spans of the service.</summary>
    public string? Operation { get; set; }

    public AlertSignal Signal { get; set; }

    /// <summary>For <see cref="AlertSignal.Latency"/>: 50, 90, 95 or 99.</summary>
    public int Percentile { get; set; } = 99;

    /// <summary>Breach when the value is above this (error rate as 0–1, latency in ms, rate in spans/s).</summary>
    public double? Above { get; set; }

    /// <summary>Breach when the value is below this (for rate drops).</summary>
    public double? Below { get; set; }

    /// <summary>
    /// Anomaly rules: compare with the mean of the previous N windows. Error rate and latency breach at
    /// <see cref="Factor"/> × baseline or more, rate at baseline / <see cref="Factor"/> or less. 0: no baseline.
    /// </summary>
    public int BaselineWindows { get; set; }

    public double Factor { get; set; } = 3;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the breach must last before the alert fires (Prometheus' <c>for</c>).</summary>
    public TimeSpan For { get; set; } = TimeSpan.Zero;

    /// <summary>Fewer spans than this in the window (or in the baseline) is no evidence either way.</summary>
    public long MinRequests { get; set; } = 10;

    public string Severity { get; set; } = "warning";

    public Dictionary<string, string> Labels { get; set; } = [];
}
