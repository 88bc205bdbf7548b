using Ariadne.Model;

namespace Ariadne.Pipeline.Log;

/// <summary>
/// Data directories written before the ingest log had three logs of their own: the embedded engine's <c>wal/</c>,
/// the tail sampler's <c>tail-sampling/</c> journal and the ClickHouse spool's <c>clickhouse-wal/</c>. At the first
/// start with the ingest log their records are copied into it (fsynced) and the old directories removed, so the
/// one recovery path takes them like any other record and an upgrade loses nothing acknowledged.
/// </summary>
public static partial class LegacyLogs
{
    private const byte JournalDecisions = 2;

    /// <summary>Runs at start-up, before the recovery reads the log (synchronously: the server does not listen yet).</summary>
    public static void Import(string dataDirectory, string logDirectory, ILogger logger)
    {
        (string Name, bool Journal)[] legacy = [("wal", false), ("tail-sampling", true), ("clickhouse-wal", false)];
        foreach (var (name, journal) in legacy)
        {
            var directory = Path.Combine(dataDirectory, name);
            if (!Directory.Exists(directory))
            {
                continue;
            }

            var records = 0;
            var log = SegmentLog.Open(logDirectory, TimeSpan.Zero);
            var appends = new List<Task>();
            var problems = SegmentReader.Replay(directory, (_, payload) =>
            {
                appends.Add(log.AppendAsync(Convert(payload, journal).Span));
                records++;
            });
            Task.WaitAll(appends);
            log.DisposeAsync().AsTask().Wait();
            foreach (var problem in problems)
            {
                LogTornRecord(logger, name, problem);
            }

            Directory.Delete(directory, recursive: true);
            LogImported(logger, records, name);
        }
    }

    /// <summary>An old record in today's layout: the journal's decisions already have it; every other record held spans.</summary>
    private static ReadOnlyMemory<byte> Convert(ReadOnlySpan<byte> payload, bool journal)
    {
        var reader = new SpanCodecReader(payload);
        if (journal && reader.ReadVarint() == JournalDecisions)
        {
            return payload.ToArray();
        }

        var tenant = reader.ReadString();
        List<Span> spans = reader.ReadSpans();
        return LogRecords.EncodeSpans(tenant, journal ? SpanRoute.TailSampling : SpanRoute.Storage, spans);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved {Records} records of the old {Directory}/ log into the ingest log.")]
    private static partial void LogImported(ILogger logger, int records, string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Old {Directory}/ log: {Problem}. Such a record was never acknowledged to a client.")]
    private static partial void LogTornRecord(ILogger logger, string directory, string problem);
}
