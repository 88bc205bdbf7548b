using System.Diagnostics;
using Ariadne.Instrumentation;
using Ariadne.Instrumentation.Data;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Ariadne.Sdk.Benchmarks;

/// <summary>
/// The SDK's database client span for one SQLite command, as the demo's orders service starts it on every INSERT and
/// UPDATE (the command itself is not executed): the span recorded by the OpenTelemetry SDK with an exporter that drops.
/// </summary>
[MemoryDiagnoser]
public class DbSpanBenchmarks
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"ariadne-dbspan-{Guid.NewGuid():N}.db");
    private TracerProvider _provider = null!;
    private SqliteConnection _connection = null!;
    private SqliteCommand _command = null!;

    [GlobalSetup]
    public void Setup()
    {
        _provider = OpenTelemetry.Sdk.CreateTracerProviderBuilder()
            .AddSource(AriadneTelemetry.SourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(new BatchActivityExportProcessor(new DroppingExporter()))
            .Build()!;
        _connection = new SqliteConnection($"Data Source={_file}");
        _connection.Open();
        _command = _connection.CreateCommand();
        _command.CommandText = "UPDATE orders SET status = $status WHERE id = $id";
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _command.Dispose();
        _connection.Dispose();
        SqliteConnection.ClearAllPools();
        File.Delete(_file);
        _provider.Dispose();
    }

    [Benchmark]
    public void StartAndStopCommandSpan()
    {
        using var activity = DbTracing.StartCommand(_command);
    }

    private sealed class DroppingExporter : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch) => ExportResult.Success;
    }
}
