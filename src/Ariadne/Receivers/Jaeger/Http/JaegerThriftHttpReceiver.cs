using Ariadne.Configuration;
using Ariadne.Hosting;
using Ariadne.Pipeline;
using Ariadne.Receivers.Jaeger.Thrift;
using Ariadne.Receivers.Otlp;
using Ariadne.Tenancy;
using Microsoft.Net.Http.Headers;

namespace Ariadne.Receivers.Jaeger.Http;

/// <summary>
/// Jaeger collector's Thrift over HTTP: <c>POST /api/traces</c> with one jaeger.thrift <c>Batch</c> in the binary
/// protocol (what jaeger-client libraries and the Go OpenTelemetry SDK's Jaeger exporter send to 14268). Answers as
/// Jaeger's collector does, 202 with an empty body; 400 with a text message for a body it cannot read, 413 over the
/// size limit, 415 for another content type or encoding, 503 with Retry-After when storage cannot take it.
/// </summary>
internal static class JaegerThriftHttpReceiver
{
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/api/traces", HandleAsync).RequireListener(Listener.JaegerThriftHttp);

    private static async Task<IResult> HandleAsync(HttpContext context, JaegerIngest ingest, TenantResolver tenants, AriadneOptions options)
    {
        var request = context.Request;
        if (tenants.Resolve(request) is not { } tenant)
        {
            return Refuse(ingest, "bad_tenant", null, $"the {tenants.HeaderName} header must be 1-64 letters, digits, '-', '_' or '.'", StatusCodes.Status400BadRequest);
        }

        if (!IsThrift(request.ContentType))
        {
            return Refuse(ingest, "unsupported_media_type", tenant,
                $"Content-Type '{request.ContentType}' is not supported; send application/x-thrift (a jaeger.thrift Batch in the Thrift binary protocol)",
                StatusCodes.Status415UnsupportedMediaType);
        }

        if (RequestBody.ParseEncoding(request.Headers.ContentEncoding.ToString()) is not { } encoding || encoding == ContentEncoding.Deflate)
        {
            return Refuse(ingest, "unsupported_media_type", tenant,
                $"Content-Encoding '{request.Headers.ContentEncoding}' is not supported; send gzip or no encoding", StatusCodes.Status415UnsupportedMediaType);
        }

        var (body, error, problem) = await RequestBody.ReadAsync(request, encoding, options.Ingest.MaxRequestBytes, context.RequestAborted);
        switch (error)
        {
            case RequestBodyError.TooLarge:
                return Refuse(ingest, "too_large", tenant,
                    $"the body is larger than {options.Ingest.MaxRequestBytes} bytes (Ingest:MaxRequestBytes, after decompression); send fewer spans per batch",
                    StatusCodes.Status413PayloadTooLarge);
            case RequestBodyError.Malformed:
                return Refuse(ingest, "malformed", tenant, problem!, StatusCodes.Status400BadRequest);
        }

        SpanBatch? batch;
        using (body)
        {
            using var payload = new ContiguousPayload(body.Data);
            (batch, problem) = JaegerIngest.Decode(payload.Span, proto: false, JaegerThriftDecoder.DecodeBatch);
        }

        if (batch is null)
        {
            return Refuse(ingest, "malformed", tenant, $"the body is not a jaeger.thrift Batch in the Thrift binary protocol: {problem}", StatusCodes.Status400BadRequest);
        }

        var result = await ingest.IngestAsync(tenant, JaegerIngest.ThriftHttpProtocol, batch, context.RequestAborted);
        if (result.Unavailable is { } unavailable)
        {
            context.Response.Headers.RetryAfter = ((long)Math.Ceiling(unavailable.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Refuse(ingest, "unavailable", tenant, $"storage is unavailable, retry later: {unavailable.Message}", StatusCodes.Status503ServiceUnavailable);
        }

        // Jaeger's collector has no partial-success answer; the count and first reason go in the 202's body.
        return result.RejectedSpans == 0
            ? Results.Accepted()
            : Results.Text($"accepted {result.AcceptedSpans} spans, rejected {result.RejectedSpans}: {result.RejectionMessage}", statusCode: StatusCodes.Status202Accepted);
    }

    private static IResult Refuse(JaegerIngest ingest, string reason, string? tenant, string message, int status)
    {
        ingest.RecordFailure(JaegerIngest.ThriftHttpProtocol, reason, tenant, message);
        return Results.Text(message, statusCode: status);
    }

    /// <summary>The content types Jaeger's collector takes on this endpoint.</summary>
    private static bool IsThrift(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/x-thrift", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.Equals("application/vnd.apache.thrift.binary", StringComparison.OrdinalIgnoreCase));
}
