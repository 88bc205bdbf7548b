using System.Globalization;
using Ariadne.Analysis;

namespace Ariadne.Alerts;

public enum AlertState
{
    /// <summary>Not breaching (or never evaluated).</summary>
    Inactive,

    /// <summary>Breaching for less than the rule's <c>For</c>.</summary>
    Pending,

    Firing,

    /// <summary>Fired, then stopped breaching; stays here until it breaches again.</summary>
    Resolved,
}

/// <summary>One rule's state after the latest evaluation.</summary>
public sealed record AlertStatus(
    AlertRuleOptions Rule,
    AlertState State,
    double? Value,
    double? Baseline,
    double? Limit,
    DateTimeOffset? PendingSince,
    DateTimeOffset? FiredAt,
    DateTimeOffset? ResolvedAt,
    DateTimeOffset? EvaluatedAt,
    string? LastError);

/// <summary>An alert as sent to Alertmanager's v2 API (and, with a status, to the webhook).</summary>
public sealed record AlertNotification(
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations,
    DateTimeOffset StartsAt,
    DateTimeOffset EndsAt,
    string GeneratorUrl,
    bool Resolved);

public interface IAlertNotifier
{
    Task SendAsync(IReadOnlyList<AlertNotification> alerts, CancellationToken cancellationToken);
}

/// <summary>
/// Evaluates the rules, as Prometheus' rule manager does: a breach makes a rule pending, a breach that lasted
/// <c>For</c> makes it firing (sent every evaluation, with <c>endsAt</c> four intervals ahead so that Alertmanager
/// resolves it by itself if Ariadne stops), and the first evaluation without a breach resolves it (sent once, with
/// <c>endsAt</c> = now). A pending rule that stops breaching goes back to inactive without a notification.
/// </summary>
public sealed class AlertEngine
{
    private readonly AlertOptions _options;
    private readonly IRedSource _source;
    private readonly IReadOnlyList<IAlertNotifier> _notifiers;
    private readonly TimeProvider _time;
    private readonly ILogger<AlertEngine> _logger;
    private readonly string _externalUrl;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private AlertStatus[] _states;

    public AlertEngine(AlertOptions options, string externalUrl, IRedSource source, IEnumerable<IAlertNotifier> notifiers, TimeProvider time, ILogger<AlertEngine> logger)
    {
        _options = options;
        _externalUrl = externalUrl.TrimEnd('/');
        _source = source;
        _notifiers = notifiers.ToList();
        _time = time;
        _logger = logger;
        _states = options.Rules.Select(r => new AlertStatus(r, AlertState.Inactive, null, null, null, null, null, null, null, null)).ToArray();
    }

    public AlertOptions Options => _options;

    public IReadOnlyList<AlertStatus> States => Volatile.Read(ref _states);

    /// <summary>The tenant whose spans a rule reads and who may see it.</summary>
    public string TenantOf(AlertRuleOptions rule) => rule.Tenant ?? _options.Tenant;

    /// <summary>The rules one tenant may see, or every rule for null (an operator: no tenant named or bound).</summary>
    public IReadOnlyList<AlertStatus> StatesOf(string? tenant) =>
        tenant is null ? States : States.Where(s => TenantOf(s.Rule) == tenant).ToList();

    /// <summary>Evaluates every rule at the provider's current time and sends what changed.</summary>
    public async Task EvaluateAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow();
            var next = new AlertStatus[_states.Length];
            var outgoing = new List<AlertNotification>();
            for (var i = 0; i < _states.Length; i++)
            {
                next[i] = await EvaluateRuleAsync(_states[i], now, cancellationToken);
                if (next[i].State == AlertState.Firing || (next[i].State == AlertState.Resolved && _states[i].State == AlertState.Firing))
                {
                    outgoing.Add(ToNotification(next[i], now));
                }
            }

            Volatile.Write(ref _states, next);
            if (outgoing.Count > 0)
            {
                foreach (var notifier in _notifiers)
                {
                    try
                    {
                        await notifier.SendAsync(outgoing, cancellationToken);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                    {
                        // The next evaluation resends firing alerts; a lost resolution is caught by endsAt.
                        _logger.LogWarning("Alerts: sending {Count} alerts with {Notifier} failed: {Message}", outgoing.Count, notifier.GetType().Name, e.Message);
                    }
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<AlertStatus> EvaluateRuleAsync(AlertStatus previous, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rule = previous.Rule;
        double? value = null, baseline = null, limit = null;
        var breach = false;
        string? error = null;
        try
        {
            var current = await _source.GetAsync(TenantOf(rule), rule.Service, rule.Operation, now - rule.Window, now, cancellationToken);
            if (current.Requests >= rule.MinRequests || rule.Signal == AlertSignal.Rate)
            {
                value = Measure(rule, current);
            }

            if (rule.BaselineWindows > 0)
            {
                var past = await _source.GetAsync(TenantOf(rule), rule.Service, rule.Operation, now - rule.Window * (rule.BaselineWindows + 1), now - rule.Window, cancellationToken);
                if (past.Requests >= rule.MinRequests)
                {
                    // Over the N windows together: the mean rate and error rate, and for latency the percentile of
                    // all their spans (a mean of percentiles means nothing).
                    baseline = Measure(rule, past);
                }
            }

            (breach, limit) = Judge(rule, value, baseline);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            error = e.Message;
            _logger.LogWarning("Alerts: rule {Rule} could not be evaluated: {Message}", rule.Name, e.Message);
        }

        var state = previous.State;
        DateTimeOffset? pendingSince = previous.PendingSince, firedAt = previous.FiredAt, resolvedAt = previous.ResolvedAt;
        if (error is not null)
        {
            // No evidence: keep the state as it was, as Prometheus keeps alerts when a query fails.
        }
        else if (breach)
        {
            if (state is AlertState.Inactive or AlertState.Resolved)
            {
                state = AlertState.Pending;
                pendingSince = now;
                firedAt = null;
                resolvedAt = null;
            }

            if (state == AlertState.Pending && now - pendingSince >= rule.For)
            {
                state = AlertState.Firing;
                firedAt = now;
            }
        }
        else if (state == AlertState.Firing)
        {
            state = AlertState.Resolved;
            resolvedAt = now;
        }
        else if (state == AlertState.Pending)
        {
            state = AlertState.Inactive;
            pendingSince = null;
        }

        return new AlertStatus(rule, state, value, baseline, limit, pendingSince, firedAt, resolvedAt, now, error);
    }

    private static double Measure(AlertRuleOptions rule, RedSample sample) => rule.Signal switch
    {
        AlertSignal.ErrorRate => sample.ErrorRate,
        AlertSignal.Latency => sample.PercentileNanos(rule.Percentile) / 1e6,
        _ => sample.RatePerSecond,
    };

    /// <summary>Whether the value breaches, and the limit it was held against (for the message and the link).</summary>
    public static (bool Breach, double? Limit) Judge(AlertRuleOptions rule, double? value, double? baseline)
    {
        if (value is not { } v)
        {
            return (false, null);
        }

        var rateRule = rule.Signal == AlertSignal.Rate;
        double? limit = rateRule ? rule.Below : rule.Above;
        if (rule.BaselineWindows > 0)
        {
            if (baseline is not { } b)
            {
                return (false, limit);
            }

            var relative = rateRule ? b / rule.Factor : b * rule.Factor;
            // Both must hold: "p99 > 800 ms and 3× baseline" ignores tripling from 2 ms to 6 ms.
            limit = limit is { } absolute ? (rateRule ? Math.Min(absolute, relative) : Math.Max(absolute, relative)) : relative;
        }

        if (limit is not { } l)
        {
            return (false, null);
        }

        return (rateRule ? v < l : v > l, l);
    }

    private AlertNotification ToNotification(AlertStatus status, DateTimeOffset now)
    {
        var rule = status.Rule;
        var labels = new Dictionary<string, string>(rule.Labels, StringComparer.Ordinal)
        {
            ["alertname"] = rule.Name,
            ["service"] = rule.Service,
            ["severity"] = rule.Severity,
            ["signal"] = SignalName(rule),
            ["tenant"] = TenantOf(rule),
        };
        if (rule.Operation is { } operation)
        {
            labels["operation"] = operation;
        }

        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["summary"] = Describe(status),
            ["value"] = Format(rule, status.Value),
        };
        if (status.Baseline is { } baseline)
        {
            annotations["baseline"] = Format(rule, baseline);
        }

        var resolved = status.State == AlertState.Resolved;
        var endsAt = resolved ? status.ResolvedAt!.Value : now + _options.EvaluationInterval * 4;
        return new AlertNotification(labels, annotations, status.FiredAt ?? now, endsAt, GeneratorUrl(status), resolved);
    }

    public static string SignalName(AlertRuleOptions rule) => rule.Signal switch
    {
        AlertSignal.ErrorRate => "error_rate",
        AlertSignal.Latency => $"p{rule.Percentile}",
        _ => "rate",
    };

    /// <summary>
    /// "p99 of POST /checkout on orders is 2.4s, over 800ms (3× baseline 310ms)"; the comparison is the value's against
    /// the limit whatever the state, so an inactive rule reads "is 438µs, under 300ms".
    /// </summary>
    public static string Describe(AlertStatus status)
    {
        var rule = status.Rule;
        var subject = rule.Operation is null ? rule.Service : $"{rule.Operation} on {rule.Service}";
        var what = rule.Signal switch
        {
            AlertSignal.ErrorRate => $"error rate of {subject}",
            AlertSignal.Latency => $"p{rule.Percentile} of {subject}",
            _ => $"rate of {subject}",
        };
        if (status.Value is not { } value)
        {
            return $"{what}: no data";
        }

        var text = $"{what} is {Format(rule, value)}";
        if (status.Limit is { } limit)
        {
            // Compared as displayed, so a value that rounds to the limit reads "at", not "over".
            var comparison = Format(rule, value) == Format(rule, limit) ? "at" : value > limit ? "over" : "under";
            text += $", {comparison} {Format(rule, limit)}";
        }

        if (status.Baseline is { } baseline)
        {
            text += $" ({rule.Factor.ToString("0.##", CultureInfo.InvariantCulture)}× baseline {Format(rule, baseline)})";
        }

        return text;
    }

    public static string Format(AlertRuleOptions rule, double? value) => value is not { } v ? "no data" : rule.Signal switch
    {
        AlertSignal.ErrorRate => (v * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%",
        AlertSignal.Latency => DurationText.Format((long)(v * 1e6)),
        _ => v.ToString("0.##", CultureInfo.InvariantCulture) + "/s",
    };

    /// <summary>The UI search for the offending operation: slower than the limit for latency, failed for errors.</summary>
    public string GeneratorUrl(AlertStatus status)
    {
        var rule = status.Rule;
        var url = $"{_externalUrl}/search?service={Uri.EscapeDataString(rule.Service)}";
        if (rule.Operation is { } operation)
        {
            url += $"&operation={Uri.EscapeDataString(operation)}";
        }

        url += $"&lookback={Uri.EscapeDataString(LookbackText(rule.Window))}";
        if (rule.Signal == AlertSignal.Latency && status.Limit is { } limit)
        {
            url += $"&minDuration={Uri.EscapeDataString(DurationText.Format((long)(limit * 1e6)))}";
        }
        else if (rule.Signal == AlertSignal.ErrorRate)
        {
            url += "&tags=" + Uri.EscapeDataString("error=true");
        }

        return url;
    }

    private static string LookbackText(TimeSpan window) =>
        window.TotalMinutes >= 1 && window.TotalMinutes == Math.Floor(window.TotalMinutes)
            ? $"{(long)window.TotalMinutes}m"
            : $"{(long)Math.Ceiling(window.TotalSeconds)}s";
}
