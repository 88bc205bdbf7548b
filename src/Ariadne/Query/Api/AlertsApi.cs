using Ariadne.Alerts;
using Ariadne.Tenancy;

namespace Ariadne.Query.Api;

/// <summary>
/// <c>GET /api/ariadne/alerts</c>: the rules the caller may see (its tenant's, or every tenant's for a request that
/// names none) with their state and the values of the latest evaluation.
/// </summary>
internal static class AlertsApi
{
    public static IResult Get(AlertEngine engine, HttpRequest request, TenantResolver tenants)
    {
        if (!tenants.TryGetScope(request, out var tenant))
        {
            return AnalysisApi.BadTenant(tenants);
        }

        return Results.Json(new
        {
            evaluationIntervalSeconds = engine.Options.EvaluationInterval.TotalSeconds,
            tenant,
            alertmanager = engine.Options.AlertmanagerUrl,
            webhook = engine.Options.WebhookUrl,
            rules = engine.StatesOf(tenant).Select(s => new
            {
                name = s.Rule.Name,
                tenant = engine.TenantOf(s.Rule),
                service = s.Rule.Service,
                operation = s.Rule.Operation,
                signal = AlertEngine.SignalName(s.Rule),
                above = s.Rule.Above,
                below = s.Rule.Below,
                baselineWindows = s.Rule.BaselineWindows,
                factor = s.Rule.BaselineWindows > 0 ? s.Rule.Factor : (double?)null,
                windowSeconds = s.Rule.Window.TotalSeconds,
                forSeconds = s.Rule.For.TotalSeconds,
                severity = s.Rule.Severity,
                state = s.State.ToString().ToLowerInvariant(),
                value = s.Value,
                baseline = s.Baseline,
                limit = s.Limit,
                summary = s.EvaluatedAt is null ? null : AlertEngine.Describe(s),
                pendingSince = s.PendingSince,
                firedAt = s.FiredAt,
                resolvedAt = s.ResolvedAt,
                evaluatedAt = s.EvaluatedAt,
                error = s.LastError,
                generatorURL = engine.GeneratorUrl(s),
            }),
        });
    }
}
