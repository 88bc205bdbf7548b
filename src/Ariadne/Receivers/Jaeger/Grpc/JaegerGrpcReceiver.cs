using Ariadne.Access;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Receivers.Jaeger.Proto;
using Ariadne.Receivers.Otlp.Grpc;
using Ariadne.Tenancy;
using Grpc.Core;

namespace Ariadne.Receivers.Jaeger.Grpc;

/// <summary>
/// Jaeger collector's gRPC service: <c>jaeger.api_v2.CollectorService/PostSpans</c>, one unary call, framed by the same
/// code as OTLP/gRPC (<see cref="RequestBody.ReadGrpcMessageAsync"/> in, <see cref="OtlpGrpcReceiver.WriteResponseAsync"/>
/// out). A malformed message gets INVALID_ARGUMENT, an oversized one RESOURCE_EXHAUSTED before it is read, storage
/// trouble UNAVAILABLE with RetryInfo; every refusal is a trailers-only response (<see cref="Refusal"/>).
/// </summary>
internal sealed class JaegerGrpcReceiver(JaegerIngest ingest, TenantResolver tenants, AriadneOptions options)
{
    public const string PostSpansPath = "/jaeger.api_v2.CollectorService/PostSpans";

    private readonly long _maxBytes = options.Ingest.MaxRequestBytes;

    public async Task HandlePostSpansAsync(HttpContext context)
    {
        var request = context.Request;
        if (!OtlpGrpcReceiver.IsGrpc(request.ContentType))
        {
            // Not a gRPC call at all, so an HTTP status, as the gRPC over HTTP/2 spec says.
            var message = $"Content-Type '{request.ContentType}' is not gRPC; send application/grpc.";
            ingest.RecordFailure(JaegerIngest.GrpcProtocol, "unsupported_media_type", tenants.Resolve(request), message);
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            await context.Response.WriteAsync(message, context.RequestAborted);
            return;
        }

        var grpcEncoding = request.Headers["grpc-encoding"].ToString();
        if (RequestBody.ParseEncoding(grpcEncoding) is not { } encoding)
        {
            await RefuseAsync(context, StatusCode.Unimplemented, "unsupported_media_type",
                $"grpc-encoding '{grpcEncoding}' is not supported; compress with gzip or deflate, or not at all.", acceptEncoding: OtlpGrpcReceiver.AcceptedEncodings);
            return;
        }

        if (tenants.Resolve(request) is not { } tenant)
        {
            await RefuseAsync(context, StatusCode.InvalidArgument, "bad_tenant", $"The {tenants.HeaderName} (or {TenantResolver.TempoHeader}) header must be 1 to 64 letters, digits, '-', '_' or '.'.");
            return;
        }

        var (body, error, problem) = await RequestBody.ReadGrpcMessageAsync(request.BodyReader, encoding, _maxBytes, context.RequestAborted);
        Pipeline.SpanBatch? batch = null;
        switch (error)
        {
            case RequestBodyError.TooLarge:
                await RefuseAsync(context, StatusCode.ResourceExhausted, "too_large",
                    $"The message is over {_maxBytes} bytes (Ingest:MaxRequestBytes, measured before and after decompression); send smaller batches.");
                return;
            case RequestBodyError.None:
                using (body)
                {
                    using var payload = new Otlp.ContiguousPayload(body.Data);
                    (batch, problem) = JaegerIngest.Decode(payload.Span, proto: true, JaegerProtoDecoder.DecodePostSpansRequest);
                }

                break;
        }

        if (batch is null)
        {
            await RefuseAsync(context, StatusCode.InvalidArgument, "malformed", $"The message is not a jaeger.api_v2.PostSpansRequest: {problem}");
            return;
        }

        var result = await ingest.IngestAsync(tenant, JaegerIngest.GrpcProtocol, batch, context.RequestAborted);
        if (result.Unavailable is { } unavailable)
        {
            await RefuseAsync(context, StatusCode.Unavailable, "unavailable", unavailable.Message, unavailable.RetryAfter);
            return;
        }

        // PostSpansResponse has no fields; spans the pipeline rejected (zero ids) are counted on /metrics.
        await OtlpGrpcReceiver.WriteResponseAsync(context, []);
    }

    /// <summary>Any other method on the Jaeger gRPC listener, answered as a gRPC server answers it.</summary>
    public Task HandleUnknownMethodAsync(HttpContext context) =>
        RefuseAsync(context, StatusCode.Unimplemented, "unimplemented",
            $"{context.Request.Path} is not a method of this server; it serves {PostSpansPath[1..]}.");

    private Task RefuseAsync(HttpContext context, StatusCode code, string reason, string message, TimeSpan? retryAfter = null, string? acceptEncoding = null)
    {
        ingest.RecordFailure(JaegerIngest.GrpcProtocol, reason, tenants.Resolve(context.Request), message);
        return new Refusal(StatusCodes.Status200OK, code, reason, message, retryAfter, GrpcAcceptEncoding: acceptEncoding).WriteAsync(context, Listener.JaegerGrpc);
    }
}
