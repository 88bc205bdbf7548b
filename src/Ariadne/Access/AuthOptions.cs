namespace Ariadne.Access;

/// <summary>
/// Bearer-token authentication (<c>Auth:*</c> keys). With no tokens the listeners are open; with tokens every
/// request on the ingest listeners (OTLP gRPC, OTLP HTTP, Zipkin) and the query listener needs one.
/// </summary>
public sealed class AuthOptions
{
    public List<TokenOptions> Tokens { get; set; } = [];

    /// <summary>Lets /metrics on the query listener answer without a token, for Prometheus scrapers.</summary>
    public bool AllowAnonymousMetrics { get; set; }

    public IReadOnlyList<string> Validate(Tenancy.TenancyOptions tenancy)
    {
        var errors = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Tokens.Count; i++)
        {
            var token = Tokens[i];
            var key = $"Auth:Tokens:{i}";
            // Messages name the entry, never the token itself: they end up in logs and terminals.
            if (token.Token.Length < 16 || token.Token.Any(c => c is <= ' ' or > '~'))
            {
                errors.Add($"{key}:Token: must be at least 16 printable ASCII characters without spaces; generate one with `openssl rand -hex 32`.");
            }
            else if (!seen.Add(token.Token))
            {
                errors.Add($"{key}:Token: the same token is listed twice; give each client its own.");
            }

            if (token.Scopes.Count == 0)
            {
                errors.Add($"{key}:Scopes: list what the token may do: ingest, query or both.");
            }

            foreach (var scope in token.Scopes)
            {
                if (ParseScope(scope) is null)
                {
                    errors.Add($"{key}:Scopes: '{scope}' is not a scope; use ingest or query.");
                }
            }

            if (token.Tenant is not null)
            {
                if (!Tenancy.TenantResolver.IsValidTenant(token.Tenant))
                {
                    errors.Add($"{key}:Tenant: '{token.Tenant}' is not a valid tenant id (1-64 letters, digits, '-', '_' or '.').");
                }
                else if (tenancy.RequireKnownTenant && !tenancy.Tenants.Any(t => t.Id == token.Tenant))
                {
                    errors.Add($"{key}:Tenant: '{token.Tenant}' is not in Tenancy:Tenants, and Tenancy:RequireKnownTenant is true; add it there.");
                }
            }
        }

        return errors;
    }

    internal static AuthScopes? ParseScope(string scope) => scope.Trim().ToLowerInvariant() switch
    {
        "ingest" => AuthScopes.Ingest,
        "query" => AuthScopes.Query,
        _ => null,
    };
}

/// <summary>One accepted token (<c>Auth:Tokens:N:*</c>).</summary>
public sealed class TokenOptions
{
    /// <summary>The secret a client sends as <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>When set, requests with this token act as this tenant; naming another tenant is refused (403).</summary>
    public string? Tenant { get; set; }

    /// <summary>ingest (OTLP and Zipkin listeners), query (query listener: API, UI, /metrics), or both.</summary>
    public List<string> Scopes { get; set; } = [];
}

[Flags]
public enum AuthScopes
{
    None = 0,
    Ingest = 1,
    Query = 2,
}
