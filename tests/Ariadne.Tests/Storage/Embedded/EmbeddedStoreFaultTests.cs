using Ariadne.Storage.Embedded;
using DuckDB.NET.Data;

namespace Ariadne.Tests.Storage.Embedded;

public sealed class EmbeddedStoreFaultTests
{
    private const string Tenant = "default";

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    public async Task A_damaged_block_is_quarantined_with_a_log_line_and_the_other_blocks_keep_serving(string damage)
    {
        await using var f = new EmbeddedStoreFixture();
        var good = TestSpans.Trace(f.Now);
        var bad = TestSpans.Trace(f.Now);
        await f.Store.AppendAsync(Tenant, good, default);
        await f.Store.CutHeadAsync();
        var goodBlock = Assert.Single(f.BlockDirectories());
        await f.Store.AppendAsync(Tenant, bad, default);
        await f.Store.CutHeadAsync();
        var badBlock = Assert.Single(f.BlockDirectories(), d => d != goodBlock);
        await f.Store.DisposeAsync();

        var data = Path.Combine(badBlock, "data.parquet");
        var bytes = await File.ReadAllBytesAsync(data);
        if (damage == "flip")
        {
            for (var i = bytes.Length / 3; i < bytes.Length / 3 + 16; i++)
            {
                bytes[i] ^= 0xFF;
            }

            await File.WriteAllBytesAsync(data, bytes);
        }
        else
        {
            await File.WriteAllBytesAsync(data, bytes[..(bytes.Length / 2)]);
        }

        await f.ReopenAsync();
        Assert.Contains(f.Log.Lines, l => l.Contains(Path.GetFileName(badBlock), StringComparison.Ordinal) && l.Contains("is damaged", StringComparison.Ordinal));
        Assert.True(Directory.Exists(Path.Combine(f.Directory, "quarantine")));
        Assert.Equal(2, (await f.Store.GetTraceAsync(Tenant, good[0].TraceId, default)).Count);
        Assert.Empty(await f.Store.GetTraceAsync(Tenant, bad[0].TraceId, default));
        Assert.Single(f.Store.ListBlocks());
    }

    [Fact]
    public async Task A_data_directory_held_by_another_store_is_refused()
    {
        await using var f = new EmbeddedStoreFixture();
        var error = Assert.Throws<StorageFormatException>(() => f.Open());
        Assert.Contains("in use by another Ariadne process", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuckDB_reads_a_block_and_finds_a_trace_by_id()
    {
        await using var f = new EmbeddedStoreFixture();
        var wanted = TestSpans.Trace(f.Now, service: "checkout");
        await f.Store.AppendAsync(Tenant, wanted, default);
        for (var i = 0; i < 30; i++)
        {
            await f.Store.AppendAsync(Tenant, TestSpans.Trace(f.Now), default);
        }

        await f.Store.CutHeadAsync();
        var data = Path.Combine(Assert.Single(f.BlockDirectories()), "data.parquet");

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT service_name, name, span_kind, duration_nano, status_code
            FROM (SELECT *, kind AS span_kind FROM read_parquet('{data}'))
            WHERE trace_id = unhex('{wanted[0].TraceId.ToHex()}')
            ORDER BY start_time_unix_nano
            """;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add($"{reader.GetString(0)}|{reader.GetString(1)}|{reader.GetInt32(2)}|{reader.GetInt64(3)}|{reader.GetInt32(4)}");
        }

        Assert.Equal(
        [
            $"checkout|GET /|2|{wanted[0].DurationNanos}|1",
            $"backend|query|3|{wanted[1].DurationNanos}|2",
        ], rows);

        using var count = connection.CreateCommand();
        count.CommandText = $"SELECT count(*), count(DISTINCT trace_id) FROM read_parquet('{data}')";
        using var counts = count.ExecuteReader();
        Assert.True(counts.Read());
        Assert.Equal(62L, counts.GetInt64(0));
        Assert.Equal(31L, counts.GetInt64(1));
    }
}
