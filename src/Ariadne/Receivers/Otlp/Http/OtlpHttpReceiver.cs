using System.Globalization;
using Ariadne.Configuration;
using Ariadne.Receivers.Otlp.Json;
using Ariadne.Receivers.Otlp.Protobuf;
using Grpc.Core;

namespace Ariadne.Receivers.Otlp.Http;

/// <summary>
/// OTLP/HTTP: <c>POST /v1/traces</c>, <c>/v1/logs</c> (and <c>/v1/metrics</c>, accepted and counted), protobuf or
/// JSON by Content-Type, optionally gzip or deflate. The body is read from the request's PipeReader and capped at
/// Ingest:MaxRequestBytes after decompression (a gzip bomb stops at the cap). Answers are in the request's encoding:
/// the export response, or a google.rpc.Status with 400 (malformed, bad tenant), 413 (too large) or 415
/// (unsupported content type or encoding, answered in protobuf, OTLP's default).
/// </summary>
internal sealed class OtlpHttpReceiver(OtlpTraceService service, AriadneOptions options)
{
    private const string ProtobufContentType = "application/x-protobuf";
    private const string JsonContentType = "application/json";

    private readonly long _maxBytes = Math.Min(options.Ingest.MaxRequestBytes, Array.MaxLength - 1);

    private enum BodyFormat
    {
        Protobuf,
        Json,
    }

    public Task HandleTracesAsync(HttpContext context) => HandleAsync(context, OtlpExport.Traces());

    public Task HandleLogsAsync(HttpContext context) => HandleAsync(context, OtlpExport.Logs());

    public Task HandleIgnoredAsync(HttpContext context, OtlpIgnoredSignal signal) => HandleAsync(context, OtlpExport.Ignored(signal));

    private async Task HandleAsync(HttpContext context, OtlpExport export)
    {
        var request = context.Request;
        if (GetFormat(request.ContentType) is not { } format)
        {
            await RefuseAsync(context, BodyFormat.Protobuf, StatusCodes.Status415UnsupportedMediaType, StatusCode.InvalidArgument, "unsupported_media_type",
                $"Content-Type '{request.ContentType}' is not supported; send {ProtobufContentType} or {JsonContentType}.");
            return;
        }

        if (RequestBody.ParseEncoding(request.Headers.ContentEncoding.ToString()) is not { } encoding)
        {
            await RefuseAsync(context, format, StatusCodes.Status415UnsupportedMediaType, StatusCode.InvalidArgument, "unsupported_media_type",
                $"Content-Encoding '{request.Headers.ContentEncoding}' is not supported; send gzip, deflate or an uncompressed body.");
            return;
        }

        if (service.ResolveTenant(request) is not { } tenant)
        {
            await RefuseAsync(context, format, StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, "bad_tenant", service.InvalidTenantMessage);
            return;
        }

        var (body, error, problem) = await RequestBody.ReadAsync(request, encoding, _maxBytes, context.RequestAborted);
        if (error == RequestBodyError.TooLarge)
        {
            await RefuseAsync(context, format, StatusCodes.Status413PayloadTooLarge, StatusCode.ResourceExhausted, "too_large",
                $"The request body is over {_maxBytes} bytes (Ingest:MaxRequestBytes, measured after decompression); send smaller batches.");
            return;
        }

        string? malformed;
        if (error == RequestBodyError.Malformed)
        {
            malformed = problem;
        }
        else
        {
            using (body)
            {
                malformed = export.Decode(body.Data, format == BodyFormat.Json);
            }
        }

        if (malformed is not null)
        {
            await RefuseAsync(context, format, StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, "malformed", malformed);
            return;
        }

        var response = await export.ExportAsync(service, tenant, OtlpTraceService.HttpProtocol, context.RequestAborted);
        if (response.Unavailable is { } unavailable)
        {
            // OTLP/HTTP: 503 is retryable; Retry-After (and the Status's RetryInfo) tell the exporter when.
            await RefuseAsync(context, format, StatusCodes.Status503ServiceUnavailable, StatusCode.Unavailable, "unavailable", unavailable.Message, unavailable.RetryAfter);
            return;
        }

        await WriteExportResponseAsync(context, format, response, export.RejectedJsonField);
    }

    private static async Task WriteExportResponseAsync(HttpContext context, BodyFormat format, OtlpExportResponse response, string rejectedJsonField)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        if (format == BodyFormat.Json)
        {
            context.Response.ContentType = JsonContentType;
            OtlpJsonResponses.WriteExportResponse(context.Response.BodyWriter, response, rejectedJsonField);
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
            return;
        }

        var bytes = OtlpProtobufResponses.EncodeExportResponse(response);
        context.Response.ContentType = ProtobufContentType;
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private async Task RefuseAsync(HttpContext context, BodyFormat format, int httpStatus, StatusCode code, string reason, string message, TimeSpan? retryAfter = null)
    {
        service.RecordFailure(OtlpTraceService.HttpProtocol, reason, context.Request, message);
        context.Response.StatusCode = httpStatus;
        if (retryAfter is { } delay)
        {
            context.Response.Headers.RetryAfter = ((long)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        if (format == BodyFormat.Json)
        {
            context.Response.ContentType = JsonContentType;
            OtlpJsonResponses.WriteStatus(context.Response.BodyWriter, (int)code, message, retryAfter);
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
            return;
        }

        var bytes = OtlpProtobufResponses.EncodeStatus((int)code, message, retryAfter);
        context.Response.ContentType = ProtobufContentType;
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private static BodyFormat? GetFormat(string? contentType)
    {
        var mediaType = contentType.AsSpan();
        var parameters = mediaType.IndexOf(';');
        if (parameters >= 0)
        {
            mediaType = mediaType[..parameters];
        }

        mediaType = mediaType.Trim();
        return mediaType.Equals(ProtobufContentType, StringComparison.OrdinalIgnoreCase) ? BodyFormat.Protobuf
            : mediaType.Equals(JsonContentType, StringComparison.OrdinalIgnoreCase) ? BodyFormat.Json
            : null;
    }
}
