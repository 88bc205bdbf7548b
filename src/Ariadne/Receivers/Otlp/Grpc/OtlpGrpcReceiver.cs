using System.Buffers.Binary;
using Ariadne.Access;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Receivers.Otlp.Protobuf;
using Grpc.Core;

namespace Ariadne.Receivers.Otlp.Grpc;

/// <summary>
/// OTLP/gRPC: the Export method of the trace, logs and metrics services, each one unary call, served as plain HTTP/2
/// endpoints. We frame the call ourselves instead of through Grpc.AspNetCore, because its framing layer answered
/// hostile input with UNKNOWN ("Exception was thrown by handler"): a compressed flag other than 0 or 1, a length
/// over 2 GiB, corrupt gzip. Here every such call gets INVALID_ARGUMENT, an oversize one RESOURCE_EXHAUSTED before
/// its message is read, and each refusal is counted and logged once by <see cref="OtlpTraceService"/>.
/// The answer is the length-prefixed export response with grpc-status in the trailers or, for a refusal, a
/// trailers-only response (<see cref="Refusal"/>).
/// </summary>
internal sealed class OtlpGrpcReceiver(OtlpTraceService service, AriadneOptions options)
{
    public const string TracePath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    public const string LogsPath = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

    private const string GrpcContentType = "application/grpc";

    /// <summary>What a client may compress its message with; sent back with UNIMPLEMENTED for any other grpc-encoding.</summary>
    internal const string AcceptedEncodings = "identity,gzip,deflate";

    private readonly long _maxBytes = options.Ingest.MaxRequestBytes;

    public Task HandleTracesAsync(HttpContext context) => HandleAsync(context, OtlpExport.Traces());

    /// <summary>Spans another cluster node forwards to this one, their owner, on the internal port: taken, never routed again.</summary>
    public Task HandleForwardedTracesAsync(HttpContext context) => HandleAsync(context, OtlpExport.Traces(), Cluster.ClusterForwarder.Protocol);

    public Task HandleLogsAsync(HttpContext context) => HandleAsync(context, OtlpExport.Logs());

    public Task HandleIgnoredAsync(HttpContext context, OtlpIgnoredSignal signal) => HandleAsync(context, OtlpExport.Ignored(signal));

    /// <summary>Any other method on the gRPC listener, answered as a gRPC server answers it.</summary>
    public Task HandleUnknownMethodAsync(HttpContext context) =>
        RefuseAsync(context, StatusCode.Unimplemented, "unimplemented",
            $"{context.Request.Path} is not a method of this server; it serves Export of the OTLP trace, logs and metrics services.");

    private async Task HandleAsync(HttpContext context, OtlpExport export, string protocol = OtlpTraceService.GrpcProtocol)
    {
        var request = context.Request;
        if (!IsGrpc(request.ContentType))
        {
            // Not a gRPC call at all, so an HTTP status, as the gRPC over HTTP/2 spec says.
            var message = $"Content-Type '{request.ContentType}' is not gRPC; send application/grpc (or use OTLP/HTTP on its own port).";
            service.RecordFailure(OtlpTraceService.GrpcProtocol, "unsupported_media_type", request, message);
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            await context.Response.WriteAsync(message, context.RequestAborted);
            return;
        }

        var grpcEncoding = request.Headers["grpc-encoding"].ToString();
        if (RequestBody.ParseEncoding(grpcEncoding) is not { } encoding)
        {
            await RefuseAsync(context, StatusCode.Unimplemented, "unsupported_media_type",
                $"grpc-encoding '{grpcEncoding}' is not supported; compress with gzip or deflate, or not at all.", acceptEncoding: AcceptedEncodings);
            return;
        }

        if (service.ResolveTenant(request) is not { } tenant)
        {
            await RefuseAsync(context, StatusCode.InvalidArgument, "bad_tenant", service.InvalidTenantMessage);
            return;
        }

        string? malformed;
        var (body, error, problem) = await RequestBody.ReadGrpcMessageAsync(request.BodyReader, encoding, _maxBytes, context.RequestAborted);
        switch (error)
        {
            case RequestBodyError.TooLarge:
                await RefuseAsync(context, StatusCode.ResourceExhausted, "too_large",
                    $"The message is over {_maxBytes} bytes (Ingest:MaxRequestBytes, measured before and after decompression); send smaller batches.");
                return;
            case RequestBodyError.Malformed:
                malformed = problem;
                break;
            default:
                using (body)
                {
                    malformed = export.Decode(body.Data, json: false);
                }

                break;
        }

        if (malformed is not null)
        {
            await RefuseAsync(context, StatusCode.InvalidArgument, "malformed", malformed);
            return;
        }

        var response = await export.ExportAsync(service, tenant, protocol, context.RequestAborted);
        if (response.Unavailable is { } unavailable)
        {
            // Unavailable is the retryable status of OTLP/gRPC; RetryInfo says when.
            await RefuseAsync(context, StatusCode.Unavailable, "unavailable", unavailable.Message, unavailable.RetryAfter);
            return;
        }

        await WriteResponseAsync(context, OtlpProtobufResponses.EncodeExportResponse(response));
    }

    /// <summary>A unary call's answer: the length-prefixed message, then grpc-status 0 in the trailers (Jaeger's gRPC receiver answers the same way).</summary>
    internal static async Task WriteResponseAsync(HttpContext context, byte[] message)
    {
        if (!GrpcDeadline.TryAnswer(context))
        {
            // The deadline answered first (DEADLINE_EXCEEDED, already sent); the client has stopped listening.
            return;
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcContentType;
        var writer = response.BodyWriter;
        var frame = writer.GetSpan(5 + message.Length);
        frame[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(frame[1..], (uint)message.Length);
        message.CopyTo(frame[5..]);
        writer.Advance(5 + message.Length);
        await writer.FlushAsync(context.RequestAborted);
        response.AppendTrailer("grpc-status", "0");
    }

    private Task RefuseAsync(HttpContext context, StatusCode code, string reason, string message, TimeSpan? retryAfter = null, string? acceptEncoding = null)
    {
        service.RecordFailure(OtlpTraceService.GrpcProtocol, reason, context.Request, message);
        return new Refusal(StatusCodes.Status200OK, code, reason, message, retryAfter, GrpcAcceptEncoding: acceptEncoding).WriteAsync(context, Listener.OtlpGrpc);
    }

    /// <summary>application/grpc, or one of its subtypes (application/grpc+proto).</summary>
    internal static bool IsGrpc(string? contentType) =>
        contentType is not null
        && contentType.StartsWith(GrpcContentType, StringComparison.OrdinalIgnoreCase)
        && (contentType.Length == GrpcContentType.Length || contentType[GrpcContentType.Length] is '+' or ';');
}
