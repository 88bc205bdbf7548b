using Ariadne.Operations;
using Ariadne.Pipeline;
using Ariadne.Tenancy;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// The one service both OTLP transports call once they have decoded a request (traces or logs) (as the Aspire Dashboard's
/// OtlpTraceService): tenant, ingest, the response with partial success, and the accounting of refused requests.
/// </summary>
public sealed class OtlpTraceService(
    TenantResolver tenants, IngestPipeline pipeline, LogIngestPipeline logPipeline, IngestMetrics metrics, ILogger<OtlpTraceService> logger)
{
    public const string GrpcProtocol = "otlp_grpc";
    public const string HttpProtocol = "otlp_http";

    /// <summary>The request's tenant, or null when its tenant header is not a valid tenant id.</summary>
    public string? ResolveTenant(HttpRequest request) => tenants.Resolve(request);

    public string InvalidTenantMessage =>
        $"The {tenants.HeaderName} (or {TenantResolver.TempoHeader}) header must be 1 to 64 letters, digits, '-', '_' or '.'.";

    public async ValueTask<OtlpExportResponse> ExportAsync(string tenant, string protocol, SpanBatch batch, CancellationToken cancellationToken)
    {
        var result = await pipeline.IngestAsync(tenant, protocol, batch, cancellationToken);
        return Respond(result.RejectedSpans, result.RejectionMessage, result.Unavailable);
    }

    public async ValueTask<OtlpExportResponse> ExportLogsAsync(string tenant, string protocol, LogBatch batch, CancellationToken cancellationToken)
    {
        var result = await logPipeline.IngestAsync(tenant, protocol, batch, cancellationToken);
        return Respond(result.RejectedRecords, result.RejectionMessage, result.Unavailable);
    }

    private static OtlpExportResponse Respond(int rejected, string? rejectionMessage, IngestUnavailable? unavailable) =>
        unavailable is not null ? new OtlpExportResponse(0, null) { Unavailable = unavailable }
        : rejected == 0 ? OtlpExportResponse.Success
        : new OtlpExportResponse(rejected, rejectionMessage);

    /// <summary>Accepts the items of a signal that is not stored yet: they are only counted.</summary>
    public OtlpExportResponse Ignore(OtlpIgnoredSignal signal, long items)
    {
        metrics.RecordIgnoredSignal(signal.Name, items);
        return OtlpExportResponse.Success;
    }

    /// <summary>Counts and logs (once) a request refused as a whole. Reasons as in <see cref="IngestMetrics.RecordFailedRequest"/>.</summary>
    public void RecordFailure(string protocol, string reason, HttpRequest request, string message)
    {
        metrics.RecordFailedRequest(protocol, reason);
        logger.LogWarning(
            "Refused an OTLP request on {Protocol} {Path} from tenant {Tenant}: {Reason}: {Message}",
            protocol,
            request.Path.Value,
            ResolveTenant(request) ?? "(invalid tenant header)",
            reason,
            message);
    }
}
