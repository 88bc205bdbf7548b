using System.Globalization;
using Ariadne.Model;
using Ariadne.Storage.ClickHouse.Minutes;

namespace Ariadne.Storage.ClickHouse;

public sealed partial class ClickHouseSpanStore
{
    /// <summary>
    /// Calls, errors and the duration histogram per operation and kind of a tenant's service (one operation, or all)
    /// over the whole minutes of span start in [<paramref name="fromMinute"/>, <paramref name="toMinute"/>) (Unix
    /// minutes), from <c>call_minutes</c>: counted before sampling by the node that owns each trace, so the sum over the
    /// Distributed table is the cluster's, whichever node asks. Alert rules and the services overview read it on ClickHouse.
    /// </summary>
    internal async Task<Dictionary<(string Operation, SpanKind Kind), CallFigures>> CallMinutesAsync(
        string tenant, string service, string? operation, long fromMinute, long toMinute, CancellationToken cancellationToken)
    {
        var schema = await InitializeAsync(cancellationToken);
        var from = Math.Clamp(fromMinute * 60, 0, uint.MaxValue);
        var to = Math.Clamp(toMinute * 60, 0, uint.MaxValue);
        var rows = await QueryRowsAsync(
            $"SELECT name, kind, sum(calls), sum(errors), sum(duration_sum), sumForEach(duration_buckets) FROM {schema.Table("call_minutes")} " +
            $"WHERE tenant = {ClickHouseSql.Quote(tenant)} AND service = {ClickHouseSql.Quote(service)}" +
            (operation is null ? string.Empty : $" AND name = {ClickHouseSql.Quote(operation)}") +
            $" AND minute >= toDateTime({ClickHouseSql.Number(from)}) AND minute < toDateTime({ClickHouseSql.Number(to)}) GROUP BY name, kind",
            cancellationToken);
        var operations = new Dictionary<(string, SpanKind), CallFigures>();
        foreach (var row in rows)
        {
            var figures = new CallFigures
            {
                Calls = long.Parse(row[2], CultureInfo.InvariantCulture),
                Errors = long.Parse(row[3], CultureInfo.InvariantCulture),
                DurationSum = long.Parse(row[4], CultureInfo.InvariantCulture),
            };

            // An array in TabSeparated: [1,2,3]. Every row has the same bucket count (MinuteFigures checks it on restore).
            var buckets = row[5].Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries);
            for (var i = 0; i < Math.Min(buckets.Length, figures.Buckets.Length); i++)
            {
                figures.Buckets[i] = long.Parse(buckets[i], CultureInfo.InvariantCulture);
            }

            operations[(row[0], (SpanKind)byte.Parse(row[1], CultureInfo.InvariantCulture))] = figures;
        }

        return operations;
    }
}
