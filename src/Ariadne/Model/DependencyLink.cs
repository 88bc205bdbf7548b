namespace Ariadne.Model;

/// <summary>Calls from spans of <see cref="Parent"/> to spans of another service, <see cref="Child"/>, and how many failed.</summary>
public readonly record struct DependencyLink(string Parent, string Child, long CallCount, long ErrorCount = 0)
{
    /// <summary>Links from per-edge sums, sorted by parent then child, the order every span store and the query service answer in.</summary>
    public static List<DependencyLink> Sorted(IEnumerable<KeyValuePair<(string Parent, string Child), (long Calls, long Errors)>> edges) =>
        edges.OrderBy(e => e.Key.Parent, StringComparer.Ordinal).ThenBy(e => e.Key.Child, StringComparer.Ordinal)
            .Select(e => new DependencyLink(e.Key.Parent, e.Key.Child, e.Value.Calls, e.Value.Errors))
            .ToList();

    /// <summary>Several answers added up edge by edge, sorted as <see cref="Sorted"/> does.</summary>
    public static List<DependencyLink> Sum(IEnumerable<DependencyLink> links) =>
        Sorted(links.GroupBy(l => (l.Parent, l.Child)).Select(g => KeyValuePair.Create(g.Key, (g.Sum(l => l.CallCount), g.Sum(l => l.ErrorCount)))));
}
