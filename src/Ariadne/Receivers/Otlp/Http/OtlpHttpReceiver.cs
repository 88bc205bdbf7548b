using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
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

    // Decompressed bodies grow a pooled buffer from here; most OTLP batches are well under it.
    private const int InitialDecompressedBufferBytes = 64 * 1024;

    private readonly long _maxBytes = Math.Min(options.Ingest.MaxRequestBytes, Array.MaxLength - 1);

    private enum BodyFormat
    {
        Protobuf,
        Json,
    }

    private enum BodyEncoding
    {
        Identity,
        Gzip,
        Deflate,
    }

    public Task HandleTracesAsync(HttpContext context) => HandleAsync(context, new TraceExport());

    public Task HandleLogsAsync(HttpContext context) => HandleAsync(context, new LogExport());

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

        if (GetEncoding(request.Headers.ContentEncoding.ToString()) is not { } encoding)
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

        try
        {
            var body = encoding == BodyEncoding.Identity
                ? await ReadAsync(request.BodyReader, context.RequestAborted)
                : await ReadDecompressedAsync(request.Body, encoding, context.RequestAborted);
            try
            {
                using var payload = new ContiguousPayload(body.Data);
                export.Decode(payload.Span, format == BodyFormat.Json);
            }
            finally
            {
                body.Release();
            }
        }
        catch (OtlpMalformedException e)
        {
            await RefuseAsync(context, format, StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, "malformed", e.Message);
            return;
        }
        catch (Exception e) when (e is RequestTooLargeException || (e is BadHttpRequestException bad && bad.StatusCode == StatusCodes.Status413PayloadTooLarge))
        {
            await RefuseAsync(context, format, StatusCodes.Status413PayloadTooLarge, StatusCode.ResourceExhausted, "too_large",
                $"The request body is over {_maxBytes} bytes (Ingest:MaxRequestBytes, measured after decompression); send smaller batches.");
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

    private async ValueTask<RequestBody> ReadAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > _maxBytes)
            {
                reader.AdvanceTo(buffer.End);
                throw new RequestTooLargeException();
            }

            if (result.IsCompleted)
            {
                return new RequestBody(buffer, reader, rented: null);
            }

            // Examine everything, consume nothing: the whole body stays in the pipe until it is decoded.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private async ValueTask<RequestBody> ReadDecompressedAsync(Stream body, BodyEncoding encoding, CancellationToken cancellationToken)
    {
        // HTTP's "deflate" is the zlib format (RFC 9110), which is also what OTel exporters send.
        await using Stream decompressor = encoding == BodyEncoding.Gzip
            ? new GZipStream(body, CompressionMode.Decompress, leaveOpen: true)
            : new ZLibStream(body, CompressionMode.Decompress, leaveOpen: true);
        var buffer = ArrayPool<byte>.Shared.Rent(InitialDecompressedBufferBytes);
        var length = 0;
        var handedOver = false;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > _maxBytes)
                    {
                        throw new RequestTooLargeException();
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * buffer.Length, _maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await decompressor.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            if (length > _maxBytes)
            {
                throw new RequestTooLargeException();
            }

            handedOver = true;
            return new RequestBody(new ReadOnlySequence<byte>(buffer, 0, length), reader: null, buffer);
        }
        catch (InvalidDataException e)
        {
            throw new OtlpMalformedException($"The body is not valid {encoding.ToString().ToLowerInvariant()} data: {e.Message}", e);
        }
        finally
        {
            if (!handedOver)
            {
                ArrayPool<byte>.Shared.Return(buffer);
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

    private static BodyEncoding? GetEncoding(string contentEncoding) => contentEncoding.Trim().ToLowerInvariant() switch
    {
        "" or "identity" => BodyEncoding.Identity,
        "gzip" => BodyEncoding.Gzip,
        "deflate" => BodyEncoding.Deflate,
        _ => null,
    };

    /// <summary>A read body: still in the request pipe (consumed on release) or in a pooled buffer (returned).</summary>
    private readonly struct RequestBody(ReadOnlySequence<byte> data, PipeReader? reader, byte[]? rented)
    {
        public ReadOnlySequence<byte> Data => data;

        public void Release()
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
            else
            {
                reader?.AdvanceTo(data.End);
            }
        }
    }

    private sealed class RequestTooLargeException : Exception;

    /// <summary>One request's signal: decodes the body, then hands what it decoded to the service.</summary>
    private abstract class Export
    {
        /// <summary>The partial success field that counts this signal's rejected items in OTLP/JSON.</summary>
        public abstract string RejectedJsonField { get; }

        public abstract void Decode(ReadOnlySpan<byte> payload, bool json);

        public abstract ValueTask<OtlpExportResponse> ExportAsync(OtlpTraceService service, string tenant, CancellationToken cancellationToken);
    }

    private sealed class TraceExport : Export
    {
        private readonly SpanBatch _batch = new();

        public override string RejectedJsonField => "rejectedSpans";

        public override void Decode(ReadOnlySpan<byte> payload, bool json)
        {
            if (json)
            {
                OtlpJsonTraceDecoder.Decode(payload, _batch);
            }
            else
            {
                OtlpProtobufTraceDecoder.Decode(payload, _batch);
            }
        }

        public override ValueTask<OtlpExportResponse> ExportAsync(OtlpTraceService service, string tenant, CancellationToken cancellationToken) =>
            service.ExportAsync(tenant, OtlpTraceService.HttpProtocol, _batch, cancellationToken);
    }

    private sealed class LogExport : Export
    {
        private readonly LogBatch _batch = new();

        public override string RejectedJsonField => "rejectedLogRecords";

        public override void Decode(ReadOnlySpan<byte> payload, bool json)
        {
            if (json)
            {
                OtlpJsonLogDecoder.Decode(payload, _batch);
            }
            else
            {
                OtlpProtobufLogDecoder.Decode(payload, _batch);
            }
        }

        public override ValueTask<OtlpExportResponse> ExportAsync(OtlpTraceService service, string tenant, CancellationToken cancellationToken) =>
            service.ExportLogsAsync(tenant, OtlpTraceService.HttpProtocol, _batch, cancellationToken);
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
