using Ariadne.Configuration;
using Ariadne.Pipeline;
using Ariadne.Storage;
using Ariadne.Storage.Embedded.Logs;
using Ariadne.Storage.ClickHouse;
using Ariadne.Storage.Memory;

namespace Ariadne.Logs;

/// <summary>
/// Log records on the write side: the store of the configured engine and the ingest pipeline the OTLP receivers hand
/// records to. They are read through the query service (<c>Query/Api/TraceLogsApi.cs</c>, the trace view).
/// </summary>
public static class LogsExtensions
{
    public static IServiceCollection AddAriadneLogs(this IServiceCollection services, AriadneOptions options)
    {
        services.AddSingleton(provider => CreateStore(options, provider));
        services.AddSingleton<LogIngestPipeline>();
        return services;
    }

    private static ILogStore CreateStore(AriadneOptions options, IServiceProvider provider)
    {
        var loggers = provider.GetRequiredService<ILoggerFactory>();
        switch (options.Storage)
        {
            case "embedded":
                // The span store first: it checks (or creates) the data directory's format, and must see it empty.
                provider.GetRequiredService<ISpanStore>();
                return EmbeddedLogStore.Open(options.DataDirectory, options.Embedded, options.Logs.SegmentBytes, TimeProvider.System,
                    loggers.CreateLogger<EmbeddedLogStore>());
            case "memory":
                return new MemoryLogStore(options.Logs.MemoryMaxRecords);
            case "clickhouse":
                return new ClickHouseLogStore((ClickHouseSpanStore)provider.GetRequiredService<ISpanStore>());
            default:
                throw new InvalidOperationException($"Storage: the '{options.Storage}' engine has no log store; use embedded, memory or clickhouse.");
        }
    }
}
