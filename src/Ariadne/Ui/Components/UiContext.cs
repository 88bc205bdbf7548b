namespace Ariadne.Ui.Components;

/// <summary>What every page needs to know about the viewer, cascaded from the root.</summary>
public sealed record UiContext(string Tenant);
