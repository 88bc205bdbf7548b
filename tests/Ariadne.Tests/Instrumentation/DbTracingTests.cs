using System.Diagnostics;
using Ariadne.Instrumentation;
using Ariadne.Instrumentation.Data;
using Microsoft.Data.Sqlite;

namespace Ariadne.Tests.Instrumentation;

/// <summary>The SDK's client spans for ADO.NET commands, on a real SQLite database.</summary>
[Collection(SdkCollection.Name)]
public sealed class DbTracingTests
{
    [Fact]
    public async Task Each_command_gets_a_span_named_by_operation_and_table_with_the_conventions_attributes_also_when_repeated()
    {
        var file = Path.Combine(Path.GetTempPath(), $"ariadne-dbtracing-{Guid.NewGuid():N}.db");
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AriadneTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);
        try
        {
            await using var connection = new SqliteConnection($"Data Source={file};Pooling=false");
            await connection.OpenAsync();
            await Execute(connection, "CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, total INTEGER)");
            for (var i = 0; i < 3; i++)
            {
                await Execute(connection, "INSERT INTO orders (id, total) VALUES ($id, 10)", ("$id", $"o-{i}"));
            }

            await using var select = connection.CreateCommand();
            select.CommandText = "SELECT id FROM orders ORDER BY id";
            var ids = await select.ExecuteReaderTracedAsync(reader => reader.GetString(0));

            Assert.Equal(new[] { "o-0", "o-1", "o-2" }, ids);
            Assert.Equal(new[] { "CREATE orders", "INSERT orders", "INSERT orders", "INSERT orders", "SELECT orders" }, stopped.Select(a => a.DisplayName));
            foreach (var insert in stopped.Where(a => a.DisplayName == "INSERT orders"))
            {
                Assert.Equal(ActivityKind.Client, insert.Kind);
                Assert.Equal("sqlite", insert.GetTagItem("db.system.name"));
                Assert.Equal(Path.GetFileName(file), insert.GetTagItem("db.namespace"));
                Assert.Equal("INSERT", insert.GetTagItem("db.operation.name"));
                Assert.Equal("orders", insert.GetTagItem("db.collection.name"));
                Assert.Equal("INSERT INTO orders (id, total) VALUES ($id, 10)", insert.GetTagItem("db.query.text"));
                Assert.Equal(1, insert.GetTagItem("db.response.returned_rows"));
            }

            Assert.Equal(3, stopped.Last().GetTagItem("db.response.returned_rows"));

            // A statement seen before is not worked out again; a different connection string is.
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO orders (id, total) VALUES ($id, 10)";
            Assert.Same(DbTracing.Summarize(command), DbTracing.Summarize(command));
            await using var other = new SqliteConnection("Data Source=:memory:");
            command.Connection = other;
            Assert.Equal(":memory:", DbTracing.Summarize(command).Database);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }

    private static async Task Execute(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryTracedAsync();
    }
}
