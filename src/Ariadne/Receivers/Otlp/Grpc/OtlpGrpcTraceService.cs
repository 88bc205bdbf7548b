using Ariadne.Pipeline;
using Ariadne.Storage;
using Grpc.Core;

namespace Ariadne.Receivers.Otlp.Grpc;

/// <summary>
/// opentelemetry.proto.collector.trace.v1.TraceService/Export. Bound by hand (no generated base class) so the
/// request bytes go to our decoder; Grpc.AspNetCore requires the handler to be a public virtual method declared
/// on the type named by the bind method's service parameter.
/// </summary>
[BindServiceMethod(typeof(OtlpGrpcTraceService), nameof(BindService))]
public class OtlpGrpcTraceService(OtlpTraceService service)
{
    public static void BindService(ServiceBinderBase binder, OtlpGrpcTraceService? service) =>
        binder.AddMethod(OtlpGrpcMarshallers.ExportTraces, service is null ? null : service.Export);

    public virtual async Task<OtlpExportResponse> Export(OtlpGrpcRequest<SpanBatch> request, ServerCallContext context)
    {
        var (tenant, batch) = request.Accept(service, context);
        try
        {
            return await service.ExportAsync(tenant, OtlpTraceService.GrpcProtocol, batch, context.CancellationToken);
        }
        catch (StorageUnavailableException e)
        {
            // Unavailable is the retryable status of OTLP/gRPC.
            throw OtlpGrpcMiddleware.Refuse(service, context.GetHttpContext(), "unavailable", StatusCode.Unavailable, e.Message);
        }
    }
}

/// <summary>
/// MetricsService/Export: accepted, counted and dropped (Ariadne stores traces and their logs, not metrics), so SDKs
/// that export every signal to one endpoint do not log errors.
/// </summary>
[BindServiceMethod(typeof(OtlpGrpcIgnoredSignalsService), nameof(BindService))]
public class OtlpGrpcIgnoredSignalsService(OtlpTraceService service)
{
    public static void BindService(ServiceBinderBase binder, OtlpGrpcIgnoredSignalsService? service)
    {
        binder.AddMethod(OtlpGrpcMarshallers.ExportIgnored(OtlpIgnoredSignal.Metrics), service is null ? null : service.Export);
    }

    public virtual Task<OtlpExportResponse> Export(OtlpGrpcIgnoredRequest request, ServerCallContext context)
    {
        var http = context.GetHttpContext();
        if (service.ResolveTenant(http.Request) is null)
        {
            throw OtlpGrpcMiddleware.Refuse(service, http, "bad_tenant", StatusCode.InvalidArgument, service.InvalidTenantMessage);
        }

        if (request.Malformed is not null)
        {
            throw OtlpGrpcMiddleware.Refuse(service, http, "malformed", StatusCode.InvalidArgument, request.Malformed);
        }

        return Task.FromResult(service.Ignore(request.Signal, request.Items));
    }
}
