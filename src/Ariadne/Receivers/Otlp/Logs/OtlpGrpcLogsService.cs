using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp.Grpc;
using Grpc.Core;

namespace Ariadne.Receivers.Otlp.Logs;

/// <summary>A decoded OTLP/gRPC logs export: the records, or why the message is not valid OTLP.</summary>
public sealed class OtlpGrpcLogsRequest
{
    internal OtlpGrpcLogsRequest(LogBatch? batch, string? malformed)
    {
        Batch = batch;
        Malformed = malformed;
    }

    internal LogBatch? Batch { get; }

    internal string? Malformed { get; }
}

/// <summary>
/// opentelemetry.proto.collector.logs.v1.LogsService/Export, bound by hand as the trace service is
/// (<see cref="OtlpGrpcTraceService"/>): the request bytes go to <see cref="OtlpProtobufLogDecoder"/>, and a
/// malformed message travels in the request so that the answer is InvalidArgument.
/// </summary>
[BindServiceMethod(typeof(OtlpGrpcLogsService), nameof(BindService))]
public class OtlpGrpcLogsService(OtlpTraceService service)
{
    public const string LogsService = "opentelemetry.proto.collector.logs.v1.LogsService";

    private static readonly Method<OtlpGrpcLogsRequest, OtlpExportResponse> s_export = new(
        MethodType.Unary,
        LogsService,
        OtlpGrpcMarshallers.ExportMethod,
        Marshallers.Create<OtlpGrpcLogsRequest>((_, _) => throw new NotSupportedException(), Decode),
        OtlpGrpcMarshallers.ExportResponse);

    public static void BindService(ServiceBinderBase binder, OtlpGrpcLogsService? service) =>
        binder.AddMethod(s_export, service is null ? null : service.Export);

    public virtual async Task<OtlpExportResponse> Export(OtlpGrpcLogsRequest request, ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var tenant = service.ResolveTenant(http.Request)
            ?? throw OtlpGrpcMiddleware.Refuse(service, http, "bad_tenant", StatusCode.InvalidArgument, service.InvalidTenantMessage);
        if (request.Batch is null)
        {
            throw OtlpGrpcMiddleware.Refuse(service, http, "malformed", StatusCode.InvalidArgument, request.Malformed!);
        }

        return await service.ExportLogsAsync(tenant, OtlpTraceService.GrpcProtocol, request.Batch, context.CancellationToken);
    }

    private static OtlpGrpcLogsRequest Decode(DeserializationContext context)
    {
        var batch = new LogBatch();
        try
        {
            using var payload = new ContiguousPayload(context.PayloadAsReadOnlySequence());
            OtlpProtobufLogDecoder.Decode(payload.Span, batch);
            return new OtlpGrpcLogsRequest(batch, null);
        }
        catch (OtlpMalformedException e)
        {
            return new OtlpGrpcLogsRequest(null, e.Message);
        }
    }
}
