using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;

namespace Ariadne.Instrumentation.Data;

/// <summary>
/// Client spans for ADO.NET commands of providers that have no OpenTelemetry instrumentation of their own
/// (Microsoft.Data.Sqlite among them), following the OTel database conventions: <c>db.system.name</c>,
/// <c>db.namespace</c>, <c>db.query.text</c> (the parameterized text, never parameter values),
/// <c>db.operation.name</c>, <c>db.collection.name</c>, and a span named "{operation} {collection}".
/// </summary>
public static class DbTracing
{
    private const int MaxRememberedCommands = 1024;

    private static readonly ConcurrentDictionary<SummaryKey, CommandSummary> s_summaries = new();

    public static async Task<int> ExecuteNonQueryTracedAsync(this DbCommand command, CancellationToken cancellationToken = default)
    {
        using var activity = StartCommand(command);
        try
        {
            var rows = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            activity?.SetTag("db.response.returned_rows", rows);
            return rows;
        }
        catch (Exception e)
        {
            AriadneTelemetry.RecordError(activity, e);
            throw;
        }
    }

    public static async Task<object?> ExecuteScalarTracedAsync(this DbCommand command, CancellationToken cancellationToken = default)
    {
        using var activity = StartCommand(command);
        try
        {
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            AriadneTelemetry.RecordError(activity, e);
            throw;
        }
    }

    /// <summary>The span covers executing the command and reading every row through <paramref name="readRow"/>.</summary>
    public static async Task<List<T>> ExecuteReaderTracedAsync<T>(this DbCommand command, Func<DbDataReader, T> readRow, CancellationToken cancellationToken = default)
    {
        using var activity = StartCommand(command);
        try
        {
            var rows = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(readRow(reader));
            }

            activity?.SetTag("db.response.returned_rows", rows.Count);
            return rows;
        }
        catch (Exception e)
        {
            AriadneTelemetry.RecordError(activity, e);
            throw;
        }
    }

    /// <summary>Starts the client span for <paramref name="command"/>; for callers that execute it themselves.</summary>
    public static Activity? StartCommand(DbCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!AriadneTelemetry.Source.HasListeners())
        {
            return null;
        }

        var summary = Summarize(command);
        var activity = AriadneTelemetry.Source.StartActivity(summary.Name, ActivityKind.Client);
        if (activity is null)
        {
            return null;
        }

        activity.SetTag("db.system.name", summary.System);
        activity.SetTag("db.namespace", summary.Database);
        activity.SetTag("db.query.text", command.CommandText);
        activity.SetTag("db.operation.name", summary.Operation);
        activity.SetTag("db.collection.name", summary.Collection);
        return activity;
    }

    /// <summary>
    /// The span name and attributes of a command, remembered per statement and connection: an application runs the
    /// same few parameterized statements over and over, and working them out each time (splitting the SQL, and for
    /// SQLite a native call for the file name) was the SDK's largest own share of the demo shop's CPU.
    /// </summary>
    internal static CommandSummary Summarize(DbCommand command)
    {
        var connection = command.Connection;
        var key = new SummaryKey(command.CommandText ?? string.Empty, connection?.GetType(), connection?.ConnectionString, connection?.Database);
        if (s_summaries.TryGetValue(key, out var known))
        {
            return known;
        }

        var (operation, collection) = SqlSummary.Parse(command.CommandText);
        var system = SystemOf(connection);
        var database = DatabaseOf(connection);
        var name = (operation, collection) switch
        {
            (not null, not null) => $"{operation} {collection}",
            (not null, null) => database is null ? operation : $"{operation} {database}",
            _ => database ?? system,
        };
        var summary = new CommandSummary(name, system, database, operation, collection);

        // Statements with values written into the text never repeat: past the bound, they are worked out each time.
        if (s_summaries.Count < MaxRememberedCommands)
        {
            s_summaries.TryAdd(key, summary);
        }

        return summary;
    }

    internal sealed record CommandSummary(string Name, string System, string? Database, string? Operation, string? Collection);

    private readonly record struct SummaryKey(string Sql, Type? ConnectionType, string? ConnectionString, string? Database);

    // Names from the conventions' db.system.name registry.
    private static string SystemOf(DbConnection? connection) => connection?.GetType().FullName switch
    {
        "Microsoft.Data.Sqlite.SqliteConnection" or "System.Data.SQLite.SQLiteConnection" => "sqlite",
        "Npgsql.NpgsqlConnection" => "postgresql",
        "Microsoft.Data.SqlClient.SqlConnection" => "microsoft.sql_server",
        "MySqlConnector.MySqlConnection" or "MySql.Data.MySqlClient.MySqlConnection" => "mysql",
        _ => "other_sql",
    };

    private static string? DatabaseOf(DbConnection? connection)
    {
        if (connection is null)
        {
            return null;
        }

        // SQLite reports "main" as its database; the file is what identifies it.
        var source = connection.DataSource;
        return connection.Database is "main" or "" && !string.IsNullOrEmpty(source) ? Path.GetFileName(source) : connection.Database;
    }
}
