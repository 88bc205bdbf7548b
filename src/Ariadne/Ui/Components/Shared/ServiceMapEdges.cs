using Ariadne.Model;

namespace Ariadne.Ui.Components.Shared;

/// <summary>A point of the service map's SVG.</summary>
public readonly record struct MapPoint(double X, double Y)
{
    public static MapPoint operator +(MapPoint a, MapPoint b) => new(a.X + b.X, a.Y + b.Y);

    public static MapPoint operator -(MapPoint a, MapPoint b) => new(a.X - b.X, a.Y - b.Y);

    public static MapPoint operator *(double k, MapPoint a) => new(k * a.X, k * a.Y);

    public double Length => Math.Sqrt(X * X + Y * Y);
}

/// <summary>A box of the service map (a service, or an edge's label), by its top-left corner.</summary>
public readonly record struct MapBox(double X, double Y, double Width, double Height)
{
    public double Right => X + Width;

    public double Bottom => Y + Height;

    public MapBox Inflate(double by) => new(X - by, Y - by, Width + 2 * by, Height + 2 * by);

    public bool Intersects(MapBox other) => X < other.Right && other.X < Right && Y < other.Bottom && other.Y < Bottom;

    /// <summary>Whether a disc (a stroke's width around a point of a curve) reaches into the box.</summary>
    public bool Touches(MapPoint centre, double radius)
    {
        var dx = centre.X - Math.Clamp(centre.X, X, Right);
        var dy = centre.Y - Math.Clamp(centre.Y, Y, Bottom);
        return dx * dx + dy * dy < radius * radius;
    }
}

/// <summary>
/// One call edge of the service map: a cubic Bézier from caller to callee with an arrowhead at the callee, and its
/// label (calls, error rate) placed where it crosses neither curve, arrowhead, service nor another label.
/// </summary>
public sealed record MapEdge(DependencyLink Link, MapPoint Start, MapPoint Control1, MapPoint Control2, MapPoint End, double StrokeWidth, string Label, MapBox LabelBox)
{
    /// <summary>Estimated width of one character of an 11 px label (Liberation Sans digits are 6.1 px; a little spare).</summary>
    public const double CharWidth = 6.4;

    /// <summary>Height of a label's box: 11 px text with its halo.</summary>
    public const double LabelHeight = 14;

    /// <summary>The arrowhead marker is 7 stroke widths long and wide (markerUnits="strokeWidth").</summary>
    public double ArrowSize => 7 * StrokeWidth;

    public MapPoint At(double t)
    {
        var u = 1 - t;
        return (u * u * u) * Start + (3 * u * u * t) * Control1 + (3 * u * t * t) * Control2 + (t * t * t) * End;
    }

    public MapPoint TangentAt(double t)
    {
        var u = 1 - t;
        return (3 * u * u) * (Control1 - Start) + (6 * u * t) * (Control2 - Control1) + (3 * t * t) * (End - Control2);
    }

    /// <summary>Points along the curve with the radius the stroke (or, at the callee, the arrowhead) covers around each.</summary>
    public IEnumerable<(MapPoint Point, double Radius)> Ink(int samples = 48)
    {
        for (var i = 0; i <= samples; i++)
        {
            yield return (At((double)i / samples), StrokeWidth / 2 + 1);
        }

        // The arrowhead: a triangle ArrowSize long and wide ending at End, covered by discs along its axis.
        var tangent = TangentAt(1);
        var direction = tangent.Length < 1e-9 ? new MapPoint(0, 1) : (1 / tangent.Length) * tangent;
        for (var k = 0; k <= 4; k++)
        {
            var along = ArrowSize * k / 4;
            yield return (End - along * direction, (along / 2) + 1.5);
        }
    }
}

/// <summary>Draws the edges of a <see cref="ServiceMapLayout"/> and lays out their labels.</summary>
internal static class ServiceMapEdges
{
    /// <summary>Room above the first row for the arcs of calls that skip layers.</summary>
    public const double ArcSpace = 40;

    private const double LabelGap = 3;

    // Along the curve from its middle outwards, each on both sides: the first place clear of everything wins.
    private static readonly double[] s_positions = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8];

    // Then further off the curve, where a curve crowded by others leaves no room beside it.
    private static readonly double[] s_distances = [0, 12, 24];

    public static IReadOnlyList<MapEdge> Compute(IReadOnlyList<DependencyLink> links, IReadOnlyDictionary<string, (double X, double Y)> positions)
    {
        var curves = links.Select(link => Curve(link, positions[link.Parent], positions[link.Child])).ToArray();
        var nodes = positions.Values.Select(p => new MapBox(p.X, p.Y, ServiceMapLayout.NodeWidth, ServiceMapLayout.NodeHeight).Inflate(2)).ToList();
        var ink = curves.SelectMany(c => c.Ink()).ToList();
        var placed = new List<MapBox>();
        var edges = new MapEdge[curves.Length];

        // Busiest edges first: their labels get the best places. The result keeps the links' order.
        foreach (var index in Enumerable.Range(0, curves.Length).OrderByDescending(i => curves[i].Link.CallCount).ThenBy(i => i))
        {
            var curve = curves[index];
            var width = curve.Label.Length * MapEdge.CharWidth;
            MapBox? best = null;
            var fewest = int.MaxValue;
            foreach (var (t, away) in s_positions.SelectMany(t => s_distances.Select(away => (t, away))))
            {
                foreach (var side in (ReadOnlySpan<double>)[-1, 1])
                {
                    var box = Candidate(curve, t, side, away, width);
                    var conflicts = nodes.Count(n => n.Intersects(box)) + placed.Count(p => p.Inflate(2).Intersects(box))
                        + ink.Count(i => box.Touches(i.Point, i.Radius));
                    if (conflicts < fewest)
                    {
                        (best, fewest) = (box, conflicts);
                    }
                }

                if (fewest == 0)
                {
                    break;
                }
            }

            placed.Add(best!.Value);
            edges[index] = curve with { LabelBox = best.Value };
        }

        return edges;
    }

    /// <summary>
    /// The label's box at <paramref name="t"/> of the curve, pushed off it along the normal on <paramref name="side"/>
    /// until the box clears the tangent line, and <paramref name="away"/> further.
    /// </summary>
    private static MapBox Candidate(MapEdge curve, double t, double side, double away, double width)
    {
        var point = curve.At(t);
        var tangent = curve.TangentAt(t);
        var normal = tangent.Length < 1e-9 ? new MapPoint(0, 1) : new MapPoint(-tangent.Y / tangent.Length, tangent.X / tangent.Length);
        var extent = Math.Abs(normal.X) * width / 2 + Math.Abs(normal.Y) * MapEdge.LabelHeight / 2;
        var centre = point + (side * (extent + curve.StrokeWidth / 2 + LabelGap + away)) * normal;
        return new MapBox(centre.X - width / 2, centre.Y - MapEdge.LabelHeight / 2, width, MapEdge.LabelHeight);
    }

    /// <summary>
    /// Next-layer calls run right; calls that skip layers arc over the top so they do not cross the services in
    /// between; calls back to an earlier layer (cycles) loop under.
    /// </summary>
    private static MapEdge Curve(DependencyLink link, (double X, double Y) from, (double X, double Y) to)
    {
        var (x1, y1) = from;
        var (x2, y2) = to;
        var w = ServiceMapLayout.NodeWidth;
        var h = ServiceMapLayout.NodeHeight;
        var forward = x2 > x1;
        var skips = x2 - x1 > ServiceMapLayout.LayerGap * 1.5;
        var top = Math.Min(y1, y2) - ArcSpace + 10;
        MapPoint start, c1, c2, end;
        if (!forward)
        {
            (start, end) = (new(x1 + w / 2, y1 + h), new(x2 + w / 2, y2 + h));
            (c1, c2) = (new(start.X, start.Y + 60), new(end.X, end.Y + 60));
        }
        else if (skips)
        {
            (start, end) = (new(x1 + w / 2, y1), new(x2 + w / 2, y2));
            (c1, c2) = (new(start.X, top), new(end.X, top));
        }
        else
        {
            (start, end) = (new(x1 + w, y1 + h / 2), new(x2, y2 + h / 2));
            (c1, c2) = (new(start.X + 60, start.Y), new(end.X - 60, end.Y));
        }

        var label = link.ErrorCount > 0 ? $"{link.CallCount} · {UiFormat.Percent((double)link.ErrorCount / link.CallCount)} err" : $"{link.CallCount}";
        return new MapEdge(link, start, c1, c2, end, 1 + Math.Log10(link.CallCount + 1), label, default);
    }
}
