using Ariadne.Model;

namespace Ariadne.Ui.Components.Shared;

/// <summary>
/// Positions for the service map: callers left of callees (each service in the layer after its deepest caller,
/// cycles cut), services in a layer ordered by the mean position of their callers so that edges cross less.
/// </summary>
public sealed class ServiceMapLayout
{
    public const double NodeWidth = 170, NodeHeight = 38, Margin = 30;

    /// <summary>Columns 300 apart leave 130 between services: room for a label such as "12345 · 24.8% err" (17 characters).</summary>
    public const double LayerGap = 300;

    public const double RowGap = 70;

    public required IReadOnlyDictionary<string, (double X, double Y)> Positions { get; init; }

    /// <summary>The call edges, with their curves and labels, in the order of the links.</summary>
    public IReadOnlyList<MapEdge> Edges { get; init; } = [];

    /// <summary>What the SVG's viewBox shows: every service, curve and label, with a margin.</summary>
    public MapBox ViewBox { get; init; }

    public double Width { get; init; }

    public double Height { get; init; }

    public static ServiceMapLayout Compute(IReadOnlyList<string> services, IReadOnlyList<DependencyLink> links)
    {
        var names = services.Concat(links.SelectMany(l => new[] { l.Parent, l.Child })).Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal).ToList();
        var layer = names.ToDictionary(n => n, _ => 0, StringComparer.Ordinal);
        var edges = links.Where(l => !string.Equals(l.Parent, l.Child, StringComparison.Ordinal)).ToList();

        // Longest-path layering by relaxation; a cycle would relax forever, so stop after |V| rounds.
        for (var round = 0; round < names.Count; round++)
        {
            var changed = false;
            foreach (var edge in edges)
            {
                if (layer[edge.Child] < layer[edge.Parent] + 1 && layer[edge.Parent] + 1 < names.Count)
                {
                    layer[edge.Child] = layer[edge.Parent] + 1;
                    changed = true;
                }
            }

            if (!changed)
            {
                break;
            }
        }

        var positions = new Dictionary<string, (double X, double Y)>(StringComparer.Ordinal);
        var rowOf = new Dictionary<string, double>(StringComparer.Ordinal);
        var maxRows = 0;
        foreach (var group in names.GroupBy(n => layer[n]).OrderBy(g => g.Key))
        {
            var ordered = group.OrderBy(n =>
            {
                var callers = edges.Where(e => e.Child == n && rowOf.ContainsKey(e.Parent)).Select(e => rowOf[e.Parent]).ToList();
                return callers.Count == 0 ? double.MaxValue : callers.Average();
            }).ThenBy(n => n, StringComparer.Ordinal).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                rowOf[ordered[i]] = i;
                positions[ordered[i]] = (Margin + group.Key * LayerGap, Margin + i * RowGap);
            }

            maxRows = Math.Max(maxRows, ordered.Count);
        }

        var layers = names.Count == 0 ? 0 : layer.Values.Max() + 1;
        var width = Math.Max(400, 2 * Margin + Math.Max(0, layers - 1) * LayerGap + NodeWidth);
        var height = Math.Max(120, 2 * Margin + Math.Max(0, maxRows - 1) * RowGap + NodeHeight);
        var drawn = ServiceMapEdges.Compute(links, positions);

        // Labels pushed off their curves, and loops under the last row, may reach past the grid of services.
        var (minX, minY, maxX, maxY) = (0.0, -ServiceMapEdges.ArcSpace, width, height);
        foreach (var edge in drawn)
        {
            foreach (var (point, radius) in edge.Ink(16))
            {
                (minX, minY) = (Math.Min(minX, point.X - radius - 4), Math.Min(minY, point.Y - radius - 4));
                (maxX, maxY) = (Math.Max(maxX, point.X + radius + 4), Math.Max(maxY, point.Y + radius + 4));
            }

            var box = edge.LabelBox.Inflate(4);
            (minX, minY, maxX, maxY) = (Math.Min(minX, box.X), Math.Min(minY, box.Y), Math.Max(maxX, box.Right), Math.Max(maxY, box.Bottom));
        }

        return new ServiceMapLayout
        {
            Positions = positions,
            Edges = drawn,
            ViewBox = new MapBox(minX, minY, maxX - minX, maxY - minY),
            Width = width,
            Height = height,
        };
    }
}
