using Ariadne.Model;
using Ariadne.Pipeline.Log;
using ParquetSharp;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>Searching a block: row groups skipped by their statistics, tag filters and search index, then rows narrowed column by column.</summary>
public sealed partial class Block
{
    /// <summary>
    /// Adds the traces with a span matching the query of <paramref name="plan"/> to <paramref name="results"/>. Row groups are
    /// skipped by time range, duration and tag filters, then by the search index (version 3), then searched in
    /// parallel, each reading only the columns that decide a match for the rows still in question.
    /// </summary>
    public void Search(SearchPlan plan, SearchResults results, CancellationToken cancellationToken)
    {
        var query = plan.Query;
        if (!OverlapsTime(plan.FromNanos, plan.ToNanos)
            || (query.ServiceName is { Length: > 0 } service && !Meta.Services.ContainsKey(service))
            || (query.ServiceName is { Length: > 0 } s && query.OperationName is { Length: > 0 } op && !Meta.Services[s].Any(o => o.Name == op)))
        {
            return;
        }

        var groups = new List<int>();
        for (var g = 0; g < Meta.RowGroups.Count; g++)
        {
            var rg = Meta.RowGroups[g];
            if (rg.MaxStartUnixNano < plan.FromNanos || rg.MinStartUnixNano > plan.ToNanos || rg.MaxDurationNanos < plan.MinDuration
                || (_tags is not null && plan.TagHashes.Any(h => !_tags.MayContain(g, h, TagFilters.Second(h)))))
            {
                continue;
            }

            groups.Add(g);
        }

        // Newest row groups first, so the limit's threshold rises early and older row groups are dropped unread.
        groups.Sort((a, b) => Meta.RowGroups[b].MaxStartUnixNano.CompareTo(Meta.RowGroups[a].MaxStartUnixNano));
        try
        {
            Parallel.ForEach(groups, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, g =>
            {
                if ((results.Threshold is { } threshold && Meta.RowGroups[g].MaxStartUnixNano < threshold) || Select(g, plan) is not { } selection)
                {
                    return;
                }

                Interlocked.Increment(ref _rowGroupsSearched);
                UseReader(reader =>
                {
                    using var group = reader.RowGroup(g);
                    SearchRowGroup(group, Meta.RowGroups[g].Rows, plan, selection, results);
                    return 0;
                });
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.OfType<BlockCorruptedException>().FirstOrDefault() is { } corrupted)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(corrupted);
        }
    }

    /// <summary>
    /// What the search index says of row group <paramref name="g"/>: null when no row can match, else the rows that can
    /// (null: any) and which of the query's conditions those rows already satisfy, so the row group's columns are not
    /// read to check them again. Blocks without an index (versions 1 and 2) answer "any row, nothing checked".
    /// </summary>
    private RowSelection? Select(int g, SearchPlan plan)
    {
        if (_index is null || !plan.UsesIndex)
        {
            return RowSelection.Unchecked;
        }

        RowGroupIndex index;
        try
        {
            index = _index.Read(g);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new BlockCorruptedException(this, e);
        }

        if (index.Rows != Meta.RowGroups[g].Rows)
        {
            throw new BlockCorruptedException(this, new InvalidDataException($"{SearchIndex.FileName} has {index.Rows} rows for row group {g}, which has {Meta.RowGroups[g].Rows}"));
        }

        ulong[]? rows = null;
        var serviceChecked = plan.Query.ServiceName is { Length: > 0 } service && Narrow(index.ServiceRows(service));
        var operationChecked = plan.Query.OperationName is { Length: > 0 } operation && Narrow(index.OperationRows(operation));
        var tagsChecked = true;
        foreach (var term in plan.TagTerms)
        {
            var found = term switch
            {
                null => null,
                { IsError: true } => index.ErrorRows(),
                _ => index.AttributeRows(term.AttributeKey!, term.Hash),
            };
            tagsChecked &= Narrow(found) && term!.Exact;
        }

        return rows is not null && Array.TrueForAll(rows, word => word == 0) ? null : new RowSelection(rows, serviceChecked, operationChecked, tagsChecked);

        bool Narrow(ulong[]? found)
        {
            if (found is null)
            {
                return false;
            }

            if (rows is null)
            {
                rows = found;
            }
            else
            {
                for (var i = 0; i < rows.Length; i++)
                {
                    rows[i] &= found[i];
                }
            }

            return true;
        }
    }

    private void SearchRowGroup(RowGroupReader group, int rows, SearchPlan plan, RowSelection selection, SearchResults results)
    {
        var starts = ReadColumn<long>(group, BlockSchema.StartTime, rows);
        var durations = ReadColumn<long>(group, BlockSchema.Duration, rows);
        var floor = Math.Max(plan.FromNanos, results.Threshold ?? long.MinValue);
        var mask = selection.Rows;
        var candidates = new List<int>();
        for (var i = 0; i < rows; i++)
        {
            if ((mask is null || (mask[i >> 6] & (1UL << (i & 63))) != 0)
                && starts[i] >= floor && starts[i] <= plan.ToNanos && durations[i] >= plan.MinDuration && durations[i] <= plan.MaxDuration)
            {
                candidates.Add(i);
            }
        }

        if (candidates.Count > 0 && plan.Service is { } service && !selection.ServiceChecked)
        {
            candidates = ColumnRows.KeepEqual(group, BlockSchema.ServiceName, rows, candidates, service);
        }

        if (candidates.Count > 0 && plan.Operation is { } operation && !selection.OperationChecked)
        {
            candidates = ColumnRows.KeepEqual(group, BlockSchema.Name, rows, candidates, operation);
        }

        if (candidates.Count > 0 && plan.Query.Tags.Count > 0 && !selection.TagsChecked)
        {
            // Other row groups searched meanwhile may have raised the threshold: drop what can no longer make the answer.
            if (results.Threshold is { } threshold)
            {
                candidates.RemoveAll(row => starts[row] < threshold);
            }

            candidates = MatchTags(group, rows, candidates, plan, starts, durations);
        }

        if (candidates.Count == 0)
        {
            return;
        }

        var found = new (TraceId, long)[candidates.Count];
        ColumnRows.Visit(group, BlockSchema.TraceId, rows, candidates, (k, bytes) => found[k] = (TraceId.FromBytes(bytes), starts[candidates[k]]));
        results.AddRange(found);
    }

    /// <summary>The rows of a row group the search index leaves (null: all), and the conditions it answered exactly for them.</summary>
    private sealed record RowSelection(ulong[]? Rows, bool ServiceChecked, bool OperationChecked, bool TagsChecked)
    {
        public static readonly RowSelection Unchecked = new(null, false, false, false);
    }

    /// <summary>
    /// Candidates whose span satisfies the tag filters. A tag filter on an attribute needs its key, as UTF-8, somewhere
    /// in the row's attribute columns: that byte search drops most rows before anything is decoded; the rest are
    /// decoded into a span holding what the shared matcher looks at, and checked exactly by it.
    /// </summary>
    private List<int> MatchTags(RowGroupReader group, int rows, List<int> candidates, SearchPlan plan, long[] starts, long[] durations)
    {
        var attributes = ColumnRows.Read(group, BlockSchema.Attributes, rows, candidates);
        var resources = ColumnRows.Read(group, BlockSchema.Resource, rows, candidates);
        var scopes = ColumnRows.Read(group, BlockSchema.Scope, rows, candidates);
        var events = ColumnRows.Read(group, BlockSchema.Events, rows, candidates);
        var links = ColumnRows.Read(group, BlockSchema.Links, rows, candidates);
        var survivors = new List<int>();
        for (var k = 0; k < candidates.Count; k++)
        {
            var keep = true;
            foreach (var key in plan.TagKeys)
            {
                if (attributes[k].AsSpan().IndexOf(key) < 0 && resources[k].AsSpan().IndexOf(key) < 0 && scopes[k].AsSpan().IndexOf(key) < 0
                    && events[k].AsSpan().IndexOf(key) < 0 && links[k].AsSpan().IndexOf(key) < 0)
                {
                    keep = false;
                    break;
                }
            }

            if (keep)
            {
                survivors.Add(k);
            }
        }

        if (survivors.Count == 0)
        {
            return [];
        }

        var rowsLeft = survivors.Select(k => candidates[k]).ToList();
        var kinds = ReadColumn<int>(group, BlockSchema.Kind, rows);
        var statusCodes = ReadColumn<int>(group, BlockSchema.StatusCode, rows);
        var statusMessages = ColumnRows.Read(group, BlockSchema.StatusMessage, rows, rowsLeft);
        var strings = new StringTable();
        var matched = new List<int>();
        for (var j = 0; j < survivors.Count; j++)
        {
            var k = survivors[j];
            var row = candidates[k];
            var span = new Span
            {
                Name = plan.Operation is null ? string.Empty : plan.Query.OperationName!,
                Kind = (SpanKind)kinds[row],
                StartTimeUnixNano = starts[row],
                EndTimeUnixNano = starts[row] + durations[row],
                StatusCode = (StatusCode)statusCodes[row],
                StatusMessage = statusMessages[j].Length == 0 ? string.Empty : System.Text.Encoding.UTF8.GetString(statusMessages[j]),
                Resource = _resources.GetOrAdd(resources[k], static bytes => new SpanCodecReader(bytes).ReadResource()),
                Scope = _scopes.GetOrAdd(scopes[k], static bytes => new SpanCodecReader(bytes).ReadScope()),
                Attributes = new SpanCodecReader(attributes[k], strings).ReadAttributes(),
                Events = new SpanCodecReader(events[k], strings).ReadEvents(),
                Links = new SpanCodecReader(links[k], strings).ReadLinks(),
            };
            if (SpanMatcher.Matches(span, plan.Query))
            {
                matched.Add(row);
            }
        }

        return matched;
    }
}
