using Ariadne.Model;
using DuckDB.NET.Data;

namespace Ariadne.Tests.Storage.Embedded;

/// <summary>
/// A parent among the trace's rows of a block is stored as <c>parent_row_offset</c> (rows back to it), not as its id
/// again; blocks written before that column hold the id in <c>parent_span_id</c> and must keep reading.
/// </summary>
public sealed class ParentRowOffsetTests
{
    private const string Tenant = "default";

    /// <summary>
    /// Written by the block writer of commit 7aa5baa, before parent_row_offset existed: the spans of <see cref="Family"/>
    /// starting at 2026-11-20 11:00 UTC, and a second two-span trace.
    /// </summary>
    private const string OldBlock = "01a21f6bf7ca75859baba34d17db9582";

    private static readonly TraceId s_familyId = TraceId.TryParseHex("4bf92f3577b34da6a3ce929d0e0e4736", out var id) ? id : default;

    /// <summary>Each span as "id&lt;parent service kind", the parts of a span the parent encoding must not change.</summary>
    private static readonly string[] s_familyShape =
    [
        "00000000000000a1<0000000000000000 frontend Server",
        "00000000000000a2<00000000000000a1 frontend Internal",
        "00000000000000a3<00000000000000a2 frontend Internal",
        "00000000000000a4<000000000000dead backend Internal",
        "00000000000000b1<00000000000000a1 backend Server",
        "00000000000000b1<00000000000000a1 frontend Client",
    ];

    [Fact]
    public async Task Parents_read_back_for_nested_shared_and_orphaned_spans_from_split_blocks_and_after_compaction()
    {
        await using var f = new EmbeddedStoreFixture();
        var family = Family(s_familyId, f.Now.AddMinutes(-5));
        // The first block holds "render" and "template" without the root: render's parent is not among its rows.
        await f.Store.AppendAsync(Tenant, [family[1], family[4]], default);
        await f.Store.CutHeadAsync();
        await f.Store.AppendAsync(Tenant, [family[0], family[2], family[3], family[5]], default);
        await f.Store.CutHeadAsync();
        Assert.Equal(2, f.BlockDirectories().Length);
        Assert.Equal(s_familyShape, await ShapeAsync(f));

        Assert.Equal(1, await f.Store.CompactAsync());
        Assert.Single(f.BlockDirectories());
        Assert.Equal(s_familyShape, await ShapeAsync(f));

        await f.ReopenAsync();
        Assert.Equal(s_familyShape, await ShapeAsync(f));
    }

    [Fact]
    public async Task A_block_written_before_parent_row_offsets_reads_searches_and_compacts_into_the_new_layout()
    {
        await using var f = new EmbeddedStoreFixture();
        CopyOldBlock(f);
        await f.ReopenAsync();
        Assert.Equal(s_familyShape, await ShapeAsync(f));
        Assert.Contains(s_familyId, (await f.Store.FindTracesAsync(Tenant, new Ariadne.Model.TraceQuery
        {
            ServiceName = "backend",
            OperationName = "orphan",
            StartTimeMin = f.Now.AddHours(-2),
            StartTimeMax = f.Now,
        }, default)).Select(t => t[0].TraceId));

        await f.Store.AppendAsync(Tenant, TestSpans.Trace(f.Now.AddMinutes(-59)), default);
        await f.Store.CutHeadAsync();
        Assert.Equal(1, await f.Store.CompactAsync());
        var block = Assert.Single(f.Store.ListBlocks());
        Assert.Equal(10, block.SpanCount);
        Assert.Equal(s_familyShape, await ShapeAsync(f));
    }

    [Fact]
    public async Task DuckDB_rebuilds_parent_ids_with_the_documented_query_over_old_and_new_blocks()
    {
        await using var f = new EmbeddedStoreFixture();
        CopyOldBlock(f);
        await f.ReopenAsync();
        var newId = TestSpans.NewTraceId();
        await f.Store.AppendAsync(Tenant, Family(newId, f.Now.AddMinutes(-5)), default);
        await f.Store.CutHeadAsync();
        Assert.Equal(2, f.BlockDirectories().Length);
        var blocks = Path.Combine(f.Directory, "blocks", "t-" + Tenant, "*", "data.parquet");

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        List<string> Query(TraceId traceId)
        {
            // docs/storage-format.md, "Reading a block with DuckDB"; union_by_name because old blocks lack parent_row_offset.
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                WITH spans AS (
                    SELECT * FROM read_parquet('{blocks}',
                                               filename = true, file_row_number = true, union_by_name = true))
                SELECT s.name, hex(s.span_id) AS span_id, hex(coalesce(p.span_id, s.parent_span_id)) AS parent_span_id
                FROM spans s LEFT JOIN spans p
                    ON p.filename = s.filename AND p.file_row_number = s.file_row_number - s.parent_row_offset
                WHERE s.trace_id = unhex('{traceId.ToHex()}')
                ORDER BY s.start_time_unix_nano
                """;
            using var reader = command.ExecuteReader();
            var rows = new List<string>();
            while (reader.Read())
            {
                rows.Add($"{reader.GetString(1)}<{(reader.IsDBNull(2) ? "" : reader.GetString(2))} {reader.GetString(0)}");
            }

            return rows;
        }

        // Old blocks stored a root's parent as an empty value, new ones as null.
        string[] expected =
        [
            "00000000000000A1< GET /",
            "00000000000000A2<00000000000000A1 render",
            "00000000000000B1<00000000000000A1 call backend",
            "00000000000000B1<00000000000000A1 call backend",
            "00000000000000A3<00000000000000A2 template",
            "00000000000000A4<000000000000DEAD orphan",
        ];
        Assert.Equal(expected, Query(s_familyId));
        Assert.Equal(expected, Query(newId));

        // Only the orphan's parent id is stored as bytes in the new block.
        using var stored = connection.CreateCommand();
        stored.CommandText = $"""
            SELECT count(*) FILTER (parent_span_id IS NOT NULL), count(*) FILTER (parent_row_offset IS NOT NULL)
            FROM read_parquet('{blocks}', union_by_name = true) WHERE trace_id = unhex('{newId.ToHex()}')
            """;
        using var counts = stored.ExecuteReader();
        Assert.True(counts.Read());
        Assert.Equal(1L, counts.GetInt64(0));
        Assert.Equal(4L, counts.GetInt64(1));
    }

    /// <summary>
    /// A root, a child with a child of its own, a Zipkin-style shared span (client and server halves with one id), and
    /// a span whose parent never arrived.
    /// </summary>
    private static List<Span> Family(TraceId traceId, DateTimeOffset start)
    {
        var startNanos = (start - DateTimeOffset.UnixEpoch).Ticks * 100;
        var frontend = TestSpans.Resource("frontend");
        var backend = TestSpans.Resource("backend");
        var scope = new InstrumentationScope { Name = "golden", Version = "1" };
        Span Make(ulong spanId, ulong parent, Resource resource, string name, SpanKind kind, int millisecond) => new()
        {
            TraceId = traceId,
            SpanId = new SpanId(spanId),
            ParentSpanId = new SpanId(parent),
            Name = name,
            Kind = kind,
            StartTimeUnixNano = startNanos + millisecond * 1_000_000L,
            EndTimeUnixNano = startNanos + millisecond * 1_000_000L + 5_000_000,
            Resource = resource,
            Scope = scope,
            Attributes = [KeyValue.String("n", name)],
        };

        return
        [
            Make(0xA1, 0, frontend, "GET /", SpanKind.Server, 0),
            Make(0xA2, 0xA1, frontend, "render", SpanKind.Internal, 1),
            Make(0xB1, 0xA1, frontend, "call backend", SpanKind.Client, 2),
            Make(0xB1, 0xA1, backend, "call backend", SpanKind.Server, 3),
            Make(0xA3, 0xA2, frontend, "template", SpanKind.Internal, 4),
            Make(0xA4, 0xDEAD, backend, "orphan", SpanKind.Internal, 5),
        ];
    }

    private static void CopyOldBlock(EmbeddedStoreFixture f)
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Storage", "Embedded", "Fixtures", "block-before-parent-row-offset", OldBlock);
        var target = Path.Combine(f.Directory, "blocks", "t-" + Tenant, OldBlock);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    private static async Task<string[]> ShapeAsync(EmbeddedStoreFixture f) =>
        (await f.Store.GetTraceAsync(Tenant, s_familyId, default))
            .Select(s => $"{s.SpanId}<{s.ParentSpanId} {s.ServiceName} {s.Kind}").Order(StringComparer.Ordinal).ToArray();
}
