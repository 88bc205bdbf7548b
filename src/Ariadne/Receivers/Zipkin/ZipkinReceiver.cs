using System.Text.Json;
using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Operations;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp;
using Ariadne.Tenancy;
using Microsoft.Net.Http.Headers;

namespace Ariadne.Receivers.Zipkin;

/// <summary>
/// Zipkin v2 ingest on the Zipkin listener: <c>POST /api/v2/spans</c> with JSON or proto3 bodies, gzip allowed.
/// Answers as a Zipkin server does: 202 with an empty body on success, 400 with a text message for a body it
/// cannot read, 413 over the size limit, 415 for another content type or encoding.
/// </summary>
public static class ZipkinReceiver
{
    public const string Protocol = "zipkin";

    public static IEndpointConventionBuilder MapZipkinReceiver(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/api/v2/spans", HandleAsync).RequireListener(Listener.Zipkin);

    private static async Task<IResult> HandleAsync(
        HttpContext context,
        IngestPipeline pipeline,
        TenantResolver tenants,
        IngestMetrics metrics,
        AriadneOptions options,
        ILoggerFactory loggers)
    {
        var request = context.Request;
        var logger = loggers.CreateLogger(typeof(ZipkinReceiver));
        var tenant = tenants.Resolve(request);
        if (tenant is null)
        {
            metrics.RecordFailedRequest(Protocol, "bad_tenant");
            return Results.Text(
                $"the {tenants.HeaderName} header must be 1-64 letters, digits, '-', '_' or '.'",
                statusCode: StatusCodes.Status400BadRequest);
        }

        var isProtobuf = IsProtobuf(request.ContentType);
        if (!isProtobuf && !IsJson(request.ContentType))
        {
            metrics.RecordFailedRequest(Protocol, "unsupported_media_type");
            return Results.Text(
                $"Content-Type '{request.ContentType}' is not supported; send application/json (Zipkin v2 JSON) or application/x-protobuf (zipkin.proto3.ListOfSpans)",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        if (RequestBody.ParseEncoding(request.Headers.ContentEncoding.ToString()) is not { } encoding || encoding == ContentEncoding.Deflate)
        {
            metrics.RecordFailedRequest(Protocol, "unsupported_media_type");
            return Results.Text(
                $"Content-Encoding '{request.Headers.ContentEncoding}' is not supported; send gzip or no encoding",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        var (body, error, problem) = await RequestBody.ReadAsync(request, encoding, options.Ingest.MaxRequestBytes, context.RequestAborted);
        switch (error)
        {
            case RequestBodyError.TooLarge:
                metrics.RecordFailedRequest(Protocol, "too_large");
                logger.LogWarning("Zipkin request of tenant {Tenant} refused: body over {Limit} bytes", tenant, options.Ingest.MaxRequestBytes);
                return Results.Text(
                    $"the body is larger than {options.Ingest.MaxRequestBytes} bytes (after decompression); send fewer spans per request",
                    statusCode: StatusCodes.Status413PayloadTooLarge);
            case RequestBodyError.Malformed:
                return Malformed(metrics, logger, tenant, problem!);
        }

        var batch = new SpanBatch();
        using (body)
        {
            var mapper = new ZipkinSpanMapper(batch);
            try
            {
                using var payload = new ContiguousPayload(body.Data);
                if (isProtobuf)
                {
                    ZipkinProtoDecoder.Decode(payload.Span, mapper);
                }
                else
                {
                    ZipkinJsonDecoder.Decode(payload.Span, mapper);
                }
            }
            catch (Exception e) when (e is JsonException or ZipkinFormatException)
            {
                return Malformed(metrics, logger, tenant, isProtobuf ? e.Message : $"the body is not valid Zipkin v2 JSON: {e.Message}");
            }
        }

        var result = await pipeline.IngestAsync(tenant, Protocol, batch, context.RequestAborted);
        if (result.Unavailable is { } unavailable)
        {
            metrics.RecordFailedRequest(Protocol, "unavailable");
            logger.LogWarning("Zipkin request of tenant {Tenant} refused, storage unavailable: {Message}", tenant, unavailable.Message);
            context.Response.Headers.RetryAfter = ((long)Math.Ceiling(unavailable.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Text($"storage is unavailable, retry later: {unavailable.Message}", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (result.RejectedSpans == 0)
        {
            return Results.Accepted();
        }

        // Zipkin has no partial-success response; the count and first reason go in the 202's body for whoever looks.
        logger.LogWarning("Zipkin request of tenant {Tenant}: {Rejected} spans rejected: {Reason}", tenant, result.RejectedSpans, result.RejectionMessage);
        return Results.Text($"accepted {result.AcceptedSpans} spans, rejected {result.RejectedSpans}: {result.RejectionMessage}", statusCode: StatusCodes.Status202Accepted);
    }

    private static IResult Malformed(IngestMetrics metrics, ILogger logger, string tenant, string message)
    {
        metrics.RecordFailedRequest(Protocol, "malformed");
        logger.LogWarning("Zipkin request of tenant {Tenant} refused: {Message}", tenant, message);
        return Results.Text(message, statusCode: StatusCodes.Status400BadRequest);
    }

    /// <summary>Zipkin servers read a body without a content type as JSON, and so do we.</summary>
    private static bool IsJson(string? contentType) =>
        string.IsNullOrEmpty(contentType)
        || (MediaTypeHeaderValue.TryParse(contentType, out var media) && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase));

    private static bool IsProtobuf(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media) && media.MediaType.Equals("application/x-protobuf", StringComparison.OrdinalIgnoreCase);
}
