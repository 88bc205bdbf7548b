using System.Globalization;
using Ariadne.Hosting;
using Ariadne.Receivers;
using Ariadne.Receivers.Otlp.Json;
using Ariadne.Receivers.Otlp.Protobuf;
using Grpc.Core;
using Microsoft.Net.Http.Headers;

namespace Ariadne.Access;

/// <summary>
/// A request refused before its endpoint runs, and how each listener says so: OTLP gRPC as a trailers-only
/// response (grpc-status, grpc-message, and a google.rpc.Status with RetryInfo in grpc-status-details-bin when it
/// may be retried, grpc-accept-encoding when the encoding was refused; Jaeger gRPC alike), OTLP/HTTP as a google.rpc.Status body in the request's encoding, Zipkin and Jaeger's Thrift over HTTP as text, the query
/// listener as a Jaeger API error. HTTP answers carry Retry-After with a retry delay and WWW-Authenticate with a
/// challenge.
/// </summary>
internal sealed record Refusal(
    int HttpStatus, StatusCode GrpcCode, string Reason, string Message, TimeSpan? RetryAfter = null, string? Challenge = null, string? GrpcAcceptEncoding = null)
{
    public Task WriteAsync(HttpContext context, Listener listener)
    {
        var response = context.Response;
        if (listener.IsGrpc())
        {
            // Once a call's deadline has answered it, the endpoint's own answer is dropped (the client has gone).
            if (GrpcDeadline.TryAnswer(context))
            {
                WriteGrpc(response);
            }

            return Task.CompletedTask;
        }

        response.StatusCode = HttpStatus;
        if (RetryAfter is not null)
        {
            response.Headers.RetryAfter = ((long)RetryAfterSeconds!.Value.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        if (Challenge is not null)
        {
            response.Headers.WWWAuthenticate = Challenge;
        }

        return listener switch
        {
            Listener.OtlpHttp => WriteOtlpStatusAsync(context),
            Listener.Query => WriteJaegerErrorAsync(context),
            _ => WriteTextAsync(context),
        };
    }

    /// <summary>A trailers-only gRPC answer: every field in the response headers, no message.</summary>
    internal void WriteGrpc(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)GrpcCode).ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(Message);
        if (GrpcAcceptEncoding is not null)
        {
            response.Headers["grpc-accept-encoding"] = GrpcAcceptEncoding;
        }

        if (RetryAfter is not null)
        {
            response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(OtlpProtobufResponses.EncodeStatus((int)GrpcCode, Message, RetryAfterSeconds));
        }
    }

    /// <summary>Retry-After counts whole seconds; the gRPC detail says the same, so both clients wait alike.</summary>
    private TimeSpan? RetryAfterSeconds => RetryAfter is { } delay ? TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(delay.TotalSeconds))) : null;

    private async Task WriteOtlpStatusAsync(HttpContext context)
    {
        var response = context.Response;
        var json = MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var media)
            && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
        if (json)
        {
            response.ContentType = "application/json";
            OtlpJsonResponses.WriteStatus(response.BodyWriter, (int)GrpcCode, Message, RetryAfterSeconds);
            await response.BodyWriter.FlushAsync(context.RequestAborted);
            return;
        }

        var bytes = OtlpProtobufResponses.EncodeStatus((int)GrpcCode, Message, RetryAfterSeconds);
        response.ContentType = "application/x-protobuf";
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private Task WriteJaegerErrorAsync(HttpContext context) =>
        context.Response.WriteAsJsonAsync(
            new { data = (object?)null, total = 0, limit = 0, offset = 0, errors = new[] { new { code = HttpStatus, msg = Message } } },
            context.RequestAborted);

    private Task WriteTextAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(Message, context.RequestAborted);
    }
}
