namespace Ariadne.Ui.Components;

/// <summary>
/// What every page needs to know about the viewer, cascaded from the root. <paramref name="Scope"/> is the tenant
/// a view that spans tenants (alerts) is limited to: the token's or the header's, null when the request named none.
/// </summary>
public sealed record UiContext(string Tenant, string? Scope);
