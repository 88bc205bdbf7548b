using Ariadne.Model;
using Ariadne.Storage.Embedded.Blocks;
using FsCheck.Xunit;

namespace Ariadne.Tests.Storage.Embedded;

/// <summary>
/// Block format version 3's search index (index.bin, docs/storage-format.md): a search decodes only the row groups that
/// have a matching row, none of a block where nothing matches, answers as a search of every span does, and blocks
/// without an index (version 2) keep answering the same.
/// </summary>
public sealed class SearchIndexTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ariadne-index-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_search_decodes_exactly_the_row_groups_that_hold_a_matching_span()
    {
        var traces = SearchIndexData.Traces(seed: 5, count: 600);
        var block = SearchIndexData.WriteBlock(_directory, traces, rowGroupSpans: 64);
        var query = Query(service: "payments", operation: "refund", tags: new() { ["http.status_code"] = "500" });

        var found = Search(block, query);

        var groupsWithAMatch = block.ReadRowGroups().Count(g => g.SelectMany(t => t.Spans).Any(s => SpanMatcher.Matches(s, query)));
        Assert.InRange(groupsWithAMatch, 1, block.Meta.RowGroups.Count / 2);
        Assert.Equal(groupsWithAMatch, block.RowGroupsSearched);
        Assert.Equal(SearchIndexData.Expected(traces, query), found);
        block.Release();
    }

    [Theory]
    [InlineData("payments", null, "deployment", "stable")]
    [InlineData("frontend", "GET /cart", "deployment", "canary")]
    [InlineData(null, null, "http.status_code", "404")]
    [InlineData("checkout", "quote", "resource.deployment", "canary")]
    public void A_search_that_matches_nothing_in_a_block_decodes_none_of_its_row_groups(string? service, string? operation, string key, string value)
    {
        // Each condition alone matches spans in every row group; only the index's rows tell that no span has all of them.
        var traces = SearchIndexData.Traces(seed: 6, count: 400);
        var block = SearchIndexData.WriteBlock(_directory, traces, rowGroupSpans: 64);
        var query = Query(service, operation, new() { [key] = value });

        Assert.Empty(Search(block, query));
        Assert.Equal(0, block.RowGroupsSearched);
        block.Release();
    }

    [Property(MaxTest = 15)]
    public void A_search_answers_as_a_search_of_every_span_does_with_and_without_the_index(int seed)
    {
        var random = new Random(seed);
        var traces = SearchIndexData.Traces(seed, count: random.Next(20, 160));
        var directory = Path.Combine(_directory, "p" + seed);
        Directory.CreateDirectory(directory);
        var indexed = SearchIndexData.WriteBlock(directory, traces, rowGroupSpans: random.Next(8, 80));
        var unindexed = WithoutIndex(SearchIndexData.WriteBlock(directory, traces, rowGroupSpans: random.Next(8, 80)));
        var spans = traces.SelectMany(t => t).ToList();
        for (var q = 0; q < 30; q++)
        {
            var query = RandomQuery(random, spans);
            var expected = SearchIndexData.Expected(traces, query);
            var why = $"{query} with tags {string.Join(", ", query.Tags)}";
            Assert.True(expected.SequenceEqual(Search(indexed, query)), "with the index: " + why);
            Assert.True(expected.SequenceEqual(Search(unindexed, query)), "without the index: " + why);
        }

        indexed.Release();
        unindexed.Release();
    }

    [Fact]
    public void A_version_2_block_without_an_index_is_searched_as_before_and_reads_every_row_group_the_filters_leave()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Storage", "Embedded", "Fixtures", "block-version-2");
        var blockDirectory = Directory.GetDirectories(source).Single();
        var old = Block.Open(blockDirectory, verifyData: true);
        Assert.Equal(BlockMeta.TimeOrderedFormatVersion, old.Meta.FormatVersion);
        var traces = SearchIndexData.Traces(seed: 2, count: 300);
        var current = SearchIndexData.WriteBlock(_directory, traces, rowGroupSpans: 64);
        var query = Query(service: "payments", operation: "refund", tags: new() { ["http.status_code"] = "500" });

        var expected = SearchIndexData.Expected(traces, query);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, Search(old, query));
        Assert.Equal(expected, Search(current, query));
        Assert.True(old.RowGroupsSearched > current.RowGroupsSearched, $"version 2 read {old.RowGroupsSearched} row groups, version 3 {current.RowGroupsSearched}");
        var trace = traces[123];
        Assert.Equal(trace.Select(s => s.SpanId.ToString()).Order(), old.GetTrace(trace[0].TraceId).Select(s => s.SpanId.ToString()).Order());
        old.Release();
        current.Release();
    }

    [Fact]
    public void A_damaged_index_section_is_reported_as_a_damaged_block()
    {
        var block = SearchIndexData.WriteBlock(_directory, SearchIndexData.Traces(seed: 8, count: 100), rowGroupSpans: 64);
        var path = Path.Combine(block.Directory, SearchIndex.FileName);
        var bytes = File.ReadAllBytes(path);
        bytes.AsSpan(^40..).Fill(0xA5);
        File.WriteAllBytes(path, bytes);

        Assert.Throws<InvalidDataException>(() => Block.Open(block.Directory, verifyData: true));
        var unverified = Block.Open(block.Directory, verifyData: false);
        var error = Assert.Throws<BlockCorruptedException>(() => Search(unverified, Query("frontend", null, new())));
        Assert.Contains(SearchIndex.FileName, error.Message);
        unverified.Release();
        block.Release();
    }

    private static List<TraceId> Search(Block block, TraceQuery query)
    {
        var results = new SearchResults(query.Limit);
        block.Search(new SearchPlan(query), results, default);
        return results.Newest();
    }

    private static TraceQuery Query(string? service, string? operation, Dictionary<string, string> tags) =>
        new() { ServiceName = service, OperationName = operation, Tags = tags, Limit = 10_000 };

    /// <summary>The same block as a version 2 one: no index.bin, its metadata saying so.</summary>
    private static Block WithoutIndex(Block block)
    {
        var metaPath = Path.Combine(block.Directory, BlockMeta.FileName);
        var meta = BlockMeta.Read(metaPath);
        meta.FormatVersion = BlockMeta.TimeOrderedFormatVersion;
        meta.IndexBytes = 0;
        meta.IndexCrc32 = 0;
        block.Release();
        File.Delete(Path.Combine(block.Directory, SearchIndex.FileName));
        File.WriteAllBytes(metaPath, meta.ToJson());
        return Block.Open(block.Directory, verifyData: true);
    }

    /// <summary>Conditions taken from a random span (so most queries match something), some changed so they match nothing.</summary>
    private static TraceQuery RandomQuery(Random random, List<Span> spans)
    {
        var span = spans[random.Next(spans.Count)];
        var tags = new Dictionary<string, string>();
        for (var t = random.Next(3); t > 0; t--)
        {
            switch (random.Next(8))
            {
                case 0 or 1 or 2 when span.Attributes.Length > 0:
                    var attribute = span.Attributes[random.Next(span.Attributes.Length)];
                    tags[attribute.Key] = attribute.Value.ToString();
                    break;
                case 3:
                    var resource = span.Resource.Attributes[random.Next(span.Resource.Attributes.Length)];
                    tags[(random.Next(2) == 0 ? "resource." : string.Empty) + resource.Key] = resource.Value.ToString();
                    break;
                case 4:
                    tags["error"] = random.Next(3) switch { 0 => "true", 1 => "false", _ => "1" };
                    break;
                case 5:
                    tags["region"] = random.Next(2) == 0 ? "eu" : "us";
                    break;
                case 6:
                    tags["span.kind"] = random.Next(2) == 0 ? "server" : "internal";
                    break;
                default:
                    tags["tier"] = random.Next(4) == 0 ? "platinum" : "gold";
                    break;
            }
        }

        // Bounds at least a second from the span: SpanMatcher compares whole ticks, the engines nanoseconds.
        var start = DateTimeOffset.UnixEpoch.AddTicks(span.StartTimeUnixNano / 100);
        return new TraceQuery
        {
            ServiceName = random.Next(3) == 0 ? null : random.Next(10) == 0 ? "nobody" : span.ServiceName,
            OperationName = random.Next(2) == 0 ? null : span.Name,
            Tags = tags,
            MinDuration = random.Next(4) == 0 ? TimeSpan.FromMilliseconds(random.Next(50)) : null,
            MaxDuration = random.Next(6) == 0 ? TimeSpan.FromMilliseconds(random.Next(50)) : null,
            StartTimeMin = random.Next(3) == 0 ? start.AddSeconds(-1 - random.Next(300)) : DateTimeOffset.MinValue,
            StartTimeMax = random.Next(3) == 0 ? start.AddSeconds(1 + random.Next(300)) : DateTimeOffset.MaxValue,
            Limit = random.Next(3) == 0 ? 3 : 10_000,
        };
    }
}
