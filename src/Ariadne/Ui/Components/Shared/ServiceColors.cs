namespace Ariadne.Ui.Components.Shared;

/// <summary>
/// A colour per service, from the service name, so a service has the same colour on every page and in every trace.
/// </summary>
public static class ServiceColors
{
    // Jaeger UI's palette (colorGenerator.tsx), readable on white with white or dark text.
    private static readonly string[] s_palette =
    [
        "#17B8BE", "#F8DCA1", "#B7885E", "#FFCB99", "#F89570", "#829AE3", "#E79FD5", "#1E96BE", "#89DAC1", "#B3AD9E",
        "#12939A", "#DDB27C", "#88572C", "#FF9833", "#EF5D28", "#162A65", "#DA70BF", "#125C77", "#4DC19C", "#776E57",
    ];

    public static string For(string service)
    {
        // FNV-1a: stable across processes, unlike string.GetHashCode.
        var hash = 2166136261u;
        foreach (var c in service)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return s_palette[hash % (uint)s_palette.Length];
    }
}
