using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp.Grpc;
using Grpc.Core;

namespace Ariadne.Receivers.Otlp.Logs;

/// <summary>
/// opentelemetry.proto.collector.logs.v1.LogsService/Export, bound by hand as the trace service is
/// (<see cref="OtlpGrpcTraceService"/>): the request bytes go to <see cref="OtlpProtobufLogDecoder"/>, and a
/// malformed message travels in the request so that the answer is InvalidArgument.
/// </summary>
[BindServiceMethod(typeof(OtlpGrpcLogsService), nameof(BindService))]
public class OtlpGrpcLogsService(OtlpTraceService service)
{
    public const string LogsService = "opentelemetry.proto.collector.logs.v1.LogsService";

    private static readonly Method<OtlpGrpcRequest<LogBatch>, OtlpExportResponse> s_export =
        OtlpGrpcMarshallers.Export<LogBatch>(LogsService, OtlpProtobufLogDecoder.Decode);

    public static void BindService(ServiceBinderBase binder, OtlpGrpcLogsService? service) =>
        binder.AddMethod(s_export, service is null ? null : service.Export);

    public virtual async Task<OtlpExportResponse> Export(OtlpGrpcRequest<LogBatch> request, ServerCallContext context)
    {
        var (tenant, batch) = request.Accept(service, context);
        return await service.ExportLogsAsync(tenant, OtlpTraceService.GrpcProtocol, batch, context.CancellationToken);
    }
}
