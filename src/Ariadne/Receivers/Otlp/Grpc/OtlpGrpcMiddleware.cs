using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace Ariadne.Receivers.Otlp.Grpc;

/// <summary>
/// What the OTLP gRPC methods need around Grpc.AspNetCore: the accounting of refused calls. The services refuse
/// what they see (tenant, malformed message); what Grpc.AspNetCore refuses before our code runs (a message over
/// the limit, an unknown grpc-encoding) is counted here from the call's final grpc-status, so every refusal is
/// counted and logged once. (Kestrel's whole-body limit is lifted for gRPC by Access.AccessMiddleware, which
/// reads the first frame header before this runs; what it refuses it counts itself.)
/// </summary>
internal static class OtlpGrpcMiddleware
{
    private static readonly object s_accountedKey = new();

    public static RpcException Refuse(OtlpTraceService service, HttpContext http, string reason, StatusCode code, string message)
    {
        http.Items[s_accountedKey] = true;
        service.RecordFailure(OtlpTraceService.GrpcProtocol, reason, http.Request, message);
        return new RpcException(new Status(code, message));
    }

    public static IApplicationBuilder UseOtlpGrpc(this IApplicationBuilder app, OtlpTraceService service) => app.Use(async (context, next) =>
    {
        var serviceType = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.ServiceType;
        if (serviceType != typeof(OtlpGrpcTraceService) && serviceType != typeof(Logs.OtlpGrpcLogsService) && serviceType != typeof(OtlpGrpcIgnoredSignalsService))
        {
            await next(context);
            return;
        }

        await next(context);
        if (context.Items.ContainsKey(s_accountedKey) || !TryGetStatus(context, out var code) || code == StatusCode.OK)
        {
            return;
        }

        var reason = code switch
        {
            StatusCode.ResourceExhausted => "too_large",
            StatusCode.Unimplemented => "unsupported_media_type",
            _ => "malformed",
        };
        service.RecordFailure(OtlpTraceService.GrpcProtocol, reason, context.Request, $"gRPC status {code}");
    });

    // A call that fails before its response starts is answered trailers-only: the status is in the headers.
    private static bool TryGetStatus(HttpContext context, out StatusCode code)
    {
        var status = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"] ?? default;
        if (status.Count == 0)
        {
            status = context.Response.Headers["grpc-status"];
        }

        var parsed = int.TryParse(status.ToString(), out var value);
        code = (StatusCode)value;
        return parsed;
    }
}
