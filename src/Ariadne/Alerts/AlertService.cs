using Ariadne.Configuration;

namespace Ariadne.Alerts;

/// <summary>Runs <see cref="AlertEngine.EvaluateAsync"/> every <see cref="AlertOptions.EvaluationInterval"/> on the injected clock.</summary>
public sealed class AlertService(AlertEngine engine, TimeProvider time, ILogger<AlertService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (engine.Options.Rules.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(engine.Options.EvaluationInterval, time);
        do
        {
            try
            {
                await engine.EvaluateAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Alerts: evaluation failed; retrying at the next interval.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

public static class AlertServiceCollectionExtensions
{
    /// <summary>The alert engine and its evaluation loop; they read RED from the <see cref="IRedSource"/> the query side registers.</summary>
    public static IServiceCollection AddAriadneAlerts(this IServiceCollection services, AriadneOptions options)
    {
        var alerts = options.Alerts;
        services.AddHttpClient("alerts", c => c.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton(sp =>
        {
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient("alerts");
            var notifiers = new List<IAlertNotifier>();
            if (alerts.AlertmanagerUrl is { Length: > 0 } am)
            {
                notifiers.Add(new AlertmanagerNotifier(http, new Uri(am.TrimEnd('/') + "/")));
            }

            if (alerts.WebhookUrl is { Length: > 0 } hook)
            {
                notifiers.Add(new WebhookNotifier(http, new Uri(hook)));
            }

            var external = alerts.ExternalUrl is { Length: > 0 } url ? url : $"http://localhost:{options.Ports.Query}";
            return new AlertEngine(alerts, external, sp.GetRequiredService<IRedSource>(), notifiers, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<AlertEngine>>());
        });
        services.AddHostedService<AlertService>();
        return services;
    }

    /// <summary>Start-up checks of the Alerts section; each message names the key.</summary>
    public static IEnumerable<string> Validate(AlertOptions alerts)
    {
        if (alerts.EvaluationInterval < TimeSpan.FromSeconds(1))
        {
            yield return $"Alerts:EvaluationInterval: {alerts.EvaluationInterval} is too short; use 1s or more (default 00:00:30).";
        }

        foreach (var (key, url) in new[] { ("AlertmanagerUrl", alerts.AlertmanagerUrl), ("WebhookUrl", alerts.WebhookUrl), ("ExternalUrl", alerts.ExternalUrl) })
        {
            if (!string.IsNullOrEmpty(url) && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            {
                yield return $"Alerts:{key}: '{url}' is not an http(s) address, such as http://alertmanager:9093.";
            }
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < alerts.Rules.Count; i++)
        {
            var rule = alerts.Rules[i];
            var key = $"Alerts:Rules:{i}";
            if (string.IsNullOrWhiteSpace(rule.Name) || !names.Add(rule.Name))
            {
                yield return $"{key}:Name: every rule needs a name of its own (it becomes the alertname label).";
            }

            if (rule.Tenant is { } tenant && !Tenancy.TenantResolver.IsValidTenant(tenant))
            {
                yield return $"{key}:Tenant: '{tenant}' is not a valid tenant id (1-64 letters, digits, '-', '_' or '.').";
            }

            if (string.IsNullOrWhiteSpace(rule.Service))
            {
                yield return $"{key}:Service: name the service the rule watches.";
            }

            if (rule.Signal == AlertSignal.Latency && rule.Percentile is not (50 or 90 or 95 or 99))
            {
                yield return $"{key}:Percentile: {rule.Percentile} is not offered; use 50, 90, 95 or 99.";
            }

            var hasLimit = rule.Signal == AlertSignal.Rate ? rule.Below is not null : rule.Above is not null;
            if (!hasLimit && rule.BaselineWindows <= 0)
            {
                yield return rule.Signal == AlertSignal.Rate
                    ? $"{key}: a rate rule needs Below (spans/s) or BaselineWindows (a drop against the previous windows)."
                    : $"{key}: set Above ({(rule.Signal == AlertSignal.Latency ? "ms" : "error rate 0-1")}) or BaselineWindows (an anomaly against the previous windows).";
            }

            if (rule.BaselineWindows > 0 && rule.Factor <= 1)
            {
                yield return $"{key}:Factor: {rule.Factor} must be above 1 (3 means three times the baseline, or a third of it for rates).";
            }

            if (rule.Window < TimeSpan.FromSeconds(1))
            {
                yield return $"{key}:Window: {rule.Window} is too short; use 1s or more (default 00:05:00).";
            }
        }
    }
}
