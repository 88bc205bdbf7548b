using Ariadne.Model;
using Ariadne.Storage;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Embedded.Blocks;
using BenchmarkDotNet.Attributes;

namespace Ariadne.Benchmarks;

/// <summary>
/// The head cut's CPU per span (issue 12: 9.7 µs of ~25 µs on the durable path), on 16,384 spans of the shop mix
/// (<see cref="RealisticSpans"/>: an int attribute on every HTTP span). <c>TagPairs*</c> is the A/B of the row
/// groups' tag filters: the hashing as it was (each value formatted with <see cref="AnyValue.ToString"/>, each key
/// hashed again for every pair) against <see cref="TagFilters.Builder"/>, which since block format 3 also feeds the
/// search index (<see cref="SearchIndex.Builder"/>, included: the two are built in one pass). <c>BlockWrite</c> is the whole cut of
/// those spans into a block (Parquet with zstd 3, filters, aggregates, fsyncs). Run:
/// <c>dotnet run -c Release --project bench/Ariadne.Benchmarks -- block-cut</c>.
/// </summary>
[MemoryDiagnoser]
public class BlockCutBenchmarks
{
    private const int RowGroupSpans = 8192;
    private List<(TraceId TraceId, List<Span> Spans)> _traces = [];
    private Span[] _spans = [];
    private string _directory = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        var generator = new RealisticSpans(5, DateTimeOffset.UtcNow.AddHours(-1), TimeSpan.FromHours(1));
        var count = 0;
        while (count < 2 * RowGroupSpans)
        {
            var trace = generator.NextTrace(count / (2.0 * RowGroupSpans));
            _traces.Add((trace[0].TraceId, trace));
            count += trace.Count;
        }

        _traces.Sort(BlockOrder.Compare);
        _spans = _traces.SelectMany(t => t.Spans).ToArray();
        _directory = Directory.CreateTempSubdirectory("ariadne-block-cut-").FullName;
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    [Benchmark(Baseline = true)]
    public int TagPairsFormatted()
    {
        // The builder before this change: a HashSet of pair hashes, each value's text allocated, each key hashed per pair.
        var hashes = new HashSet<ulong>();
        var shared = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var filters = 0;
        for (var i = 0; i < _spans.Length; i++)
        {
            var span = _spans[i];
            foreach (var kv in span.Attributes)
            {
                hashes.Add(TagFilters.Hash(kv.Key, kv.Value.ToString()));
            }

            if (shared.Add(span.Resource))
            {
                foreach (var kv in span.Resource.Attributes)
                {
                    hashes.Add(TagFilters.Hash(kv.Key, kv.Value.ToString()));
                }
            }

            if ((i + 1) % RowGroupSpans == 0)
            {
                var filter = BloomFilter.Create(hashes.Count, 0.01);
                foreach (var hash in hashes)
                {
                    filter.Add(hash, TagFilters.Second(hash));
                }

                filters += filter.ToBytes().Length;
                hashes.Clear();
                shared.Clear();
            }
        }

        return filters;
    }

    [Benchmark]
    public int TagPairsBuilder()
    {
        var builder = new TagFilters.Builder(0.01);
        var index = new SearchIndex.Builder();
        for (var i = 0; i < _spans.Length; i++)
        {
            builder.Add(_spans[i], index);
            if ((i + 1) % RowGroupSpans == 0)
            {
                builder.EndRowGroup();
                index.EndRowGroup();
            }
        }

        return builder.ToBytes().Length + index.ToBytes().Length;
    }

    [Benchmark]
    public long BlockWrite()
    {
        using var writer = new BlockWriter(_directory, "default", new EmbeddedStorageOptions(), TimeProvider.System, DurableFiles.System);
        foreach (var (traceId, spans) in _traces)
        {
            writer.AddTrace(traceId, spans);
        }

        var meta = writer.Complete();
        Directory.Delete(writer.Directory, recursive: true);
        return meta.DataBytes;
    }
}
