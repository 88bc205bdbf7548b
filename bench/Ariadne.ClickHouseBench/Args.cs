using System.Globalization;

namespace Ariadne.ClickHouseBench;

internal sealed record Args(string Url, string? Cluster, string Database, int Spans, int Queries, int Producers)
{
    public static Args Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        var cluster = Get("--cluster", string.Empty);
        return new Args(
            Get("--url", "http://127.0.0.1:8123"),
            cluster.Length == 0 ? null : cluster,
            Get("--database", "bench"),
            int.Parse(Get("--spans", "2000000"), CultureInfo.InvariantCulture),
            int.Parse(Get("--queries", "300"), CultureInfo.InvariantCulture),
            int.Parse(Get("--producers", "8"), CultureInfo.InvariantCulture));
    }
}
