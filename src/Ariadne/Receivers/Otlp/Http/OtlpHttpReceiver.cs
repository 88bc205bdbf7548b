using Ariadne.Configuration;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp.Json;
using Ariadne.Receivers.Otlp.Logs;
using Ariadne.Receivers.Otlp.Protobuf;
using Ariadne.Storage;
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

    public Task HandleTracesAsync(HttpContext context) => HandleAsync(context, new StoredExport<SpanBatch>(
        "rejectedSpans", OtlpProtobufTraceDecoder.Decode, OtlpJsonTraceDecoder.Decode, static (service, tenant, batch, ct) => service.ExportAsync(tenant, OtlpTraceService.HttpProtocol, batch, ct)));

    public Task HandleLogsAsync(HttpContext context) => HandleAsync(context, new StoredExport<LogBatch>(
        "rejectedLogRecords", OtlpProtobufLogDecoder.Decode, OtlpJsonLogDecoder.Decode, static (service, tenant, batch, ct) => service.ExportLogsAsync(tenant, OtlpTraceService.HttpProtocol, batch, ct)));

    public Task HandleIgnoredAsync(HttpContext context, OtlpIgnoredSignal signal) => HandleAsync(context, new IgnoredExport(signal));

    private async Task HandleAsync(HttpContext context, Export export)
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

        var (body, error, corruption) = await RequestBody.ReadAsync(request, encoding, _maxBytes, context.RequestAborted);
        if (error == RequestBodyError.TooLarge)
        {
            await RefuseAsync(context, format, StatusCodes.Status413PayloadTooLarge, StatusCode.ResourceExhausted, "too_large",
                $"The request body is over {_maxBytes} bytes (Ingest:MaxRequestBytes, measured after decompression); send smaller batches.");
            return;
        }

        var malformed = error == RequestBodyError.CorruptCompression
            ? $"The body is not valid {encoding.ToString().ToLowerInvariant()} data: {corruption}"
            : Decode(body, format, export);
        if (malformed is not null)
        {
            await RefuseAsync(context, format, StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, "malformed", malformed);
            return;
        }

        OtlpExportResponse response;
        try
        {
            response = await export.ExportAsync(service, tenant, context.RequestAborted);
        }
        catch (StorageUnavailableException e)
        {
            // OTLP/HTTP: 503 is retryable; Retry-After tells the exporter when.
            context.Response.Headers.RetryAfter = StorageUnavailableException.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await RefuseAsync(context, format, StatusCodes.Status503ServiceUnavailable, StatusCode.Unavailable, "unavailable", e.Message);
            return;
        }

        await WriteExportResponseAsync(context, format, response, export.RejectedJsonField);
    }

    /// <summary>Decodes the body into the export and releases it; null, or why the body is not valid OTLP.</summary>
    private static string? Decode(RequestBody body, BodyFormat format, Export export)
    {
        using (body)
        {
            try
            {
                using var payload = new ContiguousPayload(body.Data);
                export.Decode(payload.Span, format == BodyFormat.Json);
                return null;
            }
            catch (OtlpMalformedException e)
            {
                return e.Message;
            }
        }
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

    private async Task RefuseAsync(HttpContext context, BodyFormat format, int httpStatus, StatusCode code, string reason, string message)
    {
        service.RecordFailure(OtlpTraceService.HttpProtocol, reason, context.Request, message);
        context.Response.StatusCode = httpStatus;
        if (format == BodyFormat.Json)
        {
            context.Response.ContentType = JsonContentType;
            OtlpJsonResponses.WriteStatus(context.Response.BodyWriter, (int)code, message);
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
            return;
        }

        var bytes = OtlpProtobufResponses.EncodeStatus((int)code, message);
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

    /// <summary>One request's signal: decodes the body, then hands what it decoded to the service.</summary>
    private abstract class Export
    {
        /// <summary>The partial success field that counts this signal's rejected items in OTLP/JSON.</summary>
        public abstract string RejectedJsonField { get; }

        public abstract void Decode(ReadOnlySpan<byte> payload, bool json);

        public abstract ValueTask<OtlpExportResponse> ExportAsync(OtlpTraceService service, string tenant, CancellationToken cancellationToken);
    }

    /// <summary>A signal Ariadne stores (traces, logs): decoded into its batch, which goes to the service.</summary>
    private sealed class StoredExport<TBatch>(
        string rejectedJsonField,
        OtlpDecode<TBatch> decodeProtobuf,
        OtlpDecode<TBatch> decodeJson,
        Func<OtlpTraceService, string, TBatch, CancellationToken, ValueTask<OtlpExportResponse>> export) : Export
        where TBatch : new()
    {
        private readonly TBatch _batch = new();

        public override string RejectedJsonField => rejectedJsonField;

        public override void Decode(ReadOnlySpan<byte> payload, bool json) => (json ? decodeJson : decodeProtobuf)(payload, _batch);

        public override ValueTask<OtlpExportResponse> ExportAsync(OtlpTraceService service, string tenant, CancellationToken cancellationToken) =>
            export(service, tenant, _batch, cancellationToken);
    }

    private sealed class IgnoredExport(OtlpIgnoredSignal signal) : Export
    {
        private long _items;

        // Never sent: an ignored signal rejects nothing.
        public override string RejectedJsonField => "rejectedDataPoints";

        public override void Decode(ReadOnlySpan<byte> payload, bool json) =>
            _items = json ? signal.CountJson(payload) : signal.CountProtobuf(payload);

        public override ValueTask<OtlpExportResponse> ExportAsync(OtlpTraceService service, string tenant, CancellationToken cancellationToken) =>
            ValueTask.FromResult(service.Ignore(signal, _items));
    }
}
