using System.Collections.Concurrent;

namespace Ariadne.Query.Regions;

/// <summary>
/// One query request as region federation sees it: whether it came from another region (then it reads this region
/// only, so a read never fans out twice), and which regions it had to answer without. The query listener opens one
/// per request (<see cref="RegionReadMiddleware"/>); the API that writes the answer reads <see cref="Warnings"/>.
/// UI pages run outside a request and open their own around a read.
/// </summary>
public sealed class RegionReadScope : IDisposable
{
    private static readonly AsyncLocal<RegionReadScope?> s_current = new();

    private readonly RegionReadScope? _outer;
    private readonly ConcurrentDictionary<string, string> _unreachable = new(StringComparer.Ordinal);

    private RegionReadScope(bool localOnly)
    {
        LocalOnly = localOnly;
        _outer = s_current.Value;
        s_current.Value = this;
    }

    /// <summary>The scope of the read in progress; null outside a query request (background work reads this region only).</summary>
    public static RegionReadScope? Current => s_current.Value;

    /// <summary>The request came from another region's federation: answer from this region's store alone.</summary>
    public bool LocalOnly { get; }

    /// <summary>One message per region that did not answer, in the words the Jaeger API's <c>errors</c> array uses.</summary>
    public IReadOnlyList<string> Warnings => _unreachable.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Value).ToList();

    public static RegionReadScope Begin(bool localOnly) => new(localOnly);

    public bool IsUnreachable(string region) => _unreachable.ContainsKey(region);

    public void ReportUnreachable(string region, string reason) =>
        _unreachable.TryAdd(region, $"region {region} unreachable: {reason}; results may be partial");

    /// <summary>Ends the scope; the regions it found unreachable are reported to the scope around it too.</summary>
    public void Dispose()
    {
        foreach (var (region, message) in _unreachable)
        {
            _outer?._unreachable.TryAdd(region, message);
        }

        s_current.Value = _outer;
    }
}
