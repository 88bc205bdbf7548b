using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace Ariadne.Alerts;

/// <summary>The JSON of one alert in Alertmanager's v2 API (<c>postableAlert</c>) and in its webhook payload.</summary>
public sealed record AlertJson(
    [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, string> Labels,
    [property: JsonPropertyName("annotations")] IReadOnlyDictionary<string, string> Annotations,
    [property: JsonPropertyName("startsAt")] DateTimeOffset StartsAt,
    [property: JsonPropertyName("endsAt")] DateTimeOffset EndsAt,
    [property: JsonPropertyName("generatorURL")] string GeneratorUrl,
    [property: JsonPropertyName("status"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Status = null)
{
    public static AlertJson From(AlertNotification alert, bool withStatus) => new(
        alert.Labels, alert.Annotations, alert.StartsAt, alert.EndsAt, alert.GeneratorUrl,
        withStatus ? (alert.Resolved ? "resolved" : "firing") : null);
}

/// <summary>
/// <c>POST {AlertmanagerUrl}/api/v2/alerts</c>, as Prometheus sends them: a JSON array of alerts; a resolved one
/// carries an <c>endsAt</c> in the past.
/// </summary>
public sealed class AlertmanagerNotifier(HttpClient http, Uri alertmanager) : IAlertNotifier
{
    private readonly Uri _endpoint = new(alertmanager, "api/v2/alerts");

    public async Task SendAsync(IReadOnlyList<AlertNotification> alerts, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(_endpoint, alerts.Select(a => AlertJson.From(a, withStatus: false)), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"Alertmanager at {_endpoint} answered {(int)response.StatusCode}: {body}");
        }
    }
}

/// <summary>
/// Posts alerts to any HTTP endpoint in the shape of Alertmanager's webhook (<c>version</c> 4, <c>status</c>,
/// <c>alerts</c>), so receivers written for Alertmanager work unchanged. One post per status.
/// </summary>
public sealed class WebhookNotifier(HttpClient http, Uri url) : IAlertNotifier
{
    public async Task SendAsync(IReadOnlyList<AlertNotification> alerts, CancellationToken cancellationToken)
    {
        foreach (var group in alerts.GroupBy(a => a.Resolved))
        {
            var payload = new
            {
                version = "4",
                receiver = "ariadne",
                status = group.Key ? "resolved" : "firing",
                alerts = group.Select(a => AlertJson.From(a, withStatus: true)),
            };
            using var response = await http.PostAsJsonAsync(url, payload, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"Webhook {url} answered {(int)response.StatusCode}.");
            }
        }
    }
}
