using Ariadne.Limits;
using Ariadne.Operations;
using Ariadne.Storage;

namespace Ariadne.Pipeline;

/// <summary>
/// Where every receiver hands its decoded log records. Ariadne keeps the records that belong to a trace, to show
/// them in the trace view; a record without a trace id is accepted (it is valid OTLP, and refusing it would make
/// SDKs log errors for every plain log line) but not stored, and counted as dropped. The tenant's limits apply to
/// the stored ones (<see cref="SpanLimiter.Apply(string, List{Model.LogRecord})"/>).
/// </summary>
public sealed class LogIngestPipeline(ILogStore store, IngestMetrics metrics, SpanLimiter limits)
{
    public async ValueTask<LogIngestResult> IngestAsync(string tenant, string protocol, LogBatch batch, CancellationToken cancellationToken)
    {
        var records = batch.Records;
        var uncorrelated = records.RemoveAll(record => record.TraceId.IsEmpty);
        if (records.Count > 0)
        {
            metrics.RecordLogLimits(tenant, limits.Apply(tenant, records));
            try
            {
                await store.AppendAsync(tenant, records, cancellationToken);
            }
            catch (StorageUnavailableException e)
            {
                return new LogIngestResult(0, uncorrelated, batch.RejectedRecords, batch.RejectionMessage, IngestUnavailable.From(e));
            }
        }

        metrics.RecordLogIngest(protocol, tenant, records.Count, batch.RejectedRecords, uncorrelated);
        return new LogIngestResult(records.Count, uncorrelated, batch.RejectedRecords, batch.RejectionMessage);
    }
}

/// <summary>
/// The outcome of one logs request: stored, accepted without storing (no trace id), rejected and why; or, with
/// <see cref="Unavailable"/>, nothing acknowledged because storage could not take the records.
/// </summary>
public readonly record struct LogIngestResult(int StoredRecords, int UncorrelatedRecords, int RejectedRecords, string? RejectionMessage, IngestUnavailable? Unavailable = null);
