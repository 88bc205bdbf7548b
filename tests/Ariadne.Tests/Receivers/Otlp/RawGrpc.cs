using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;

namespace Ariadne.Tests.Receivers.Otlp;

/// <summary>
/// gRPC calls written by hand over HTTP/2, so a test controls every byte of the framing (compressed flag, declared
/// length, message) and every header, which a gRPC client library would not let it get wrong.
/// </summary>
internal static class RawGrpc
{
    public const string TraceExport = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

    /// <summary>A length-prefixed message: the flag, the declared length (which need not be the payload's), the payload.</summary>
    public static byte[] Frame(byte flag, uint declaredLength, byte[] payload)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength);
        payload.CopyTo(frame, 5);
        return frame;
    }

    public static byte[] Frame(byte[] message, bool compressed = false) => Frame(compressed ? (byte)1 : (byte)0, (uint)message.Length, message);

    /// <summary>
    /// Sends <paramref name="body"/> as the call's body; returns the HTTP status and the grpc-status and grpc-message
    /// (from the trailers, or the headers of a trailers-only answer; null when there is none).
    /// </summary>
    public static async Task<Answer> SendAsync(
        Uri server, HttpContent body, string? grpcEncoding = null, string contentType = "application/grpc", string path = TraceExport,
        string? grpcTimeout = null, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, path))
        {
            Content = body,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TE.ParseAdd("trailers");
        if (grpcEncoding is not null)
        {
            request.Headers.Add("grpc-encoding", grpcEncoding);
        }

        if (grpcTimeout is not null)
        {
            request.Headers.TryAddWithoutValidation("grpc-timeout", grpcTimeout);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
        string? Header(string name) =>
            response.TrailingHeaders.TryGetValues(name, out var trailer) ? trailer.Single()
            : response.Headers.TryGetValues(name, out var header) ? header.Single()
            : null;
        var status = Header("grpc-status") is { } code ? (StatusCode?)int.Parse(code, CultureInfo.InvariantCulture) : null;
        var message = Header("grpc-message") is { } encoded ? Uri.UnescapeDataString(encoded) : null;
        return new Answer(response.StatusCode, status, message);
    }

    public static Task<Answer> SendAsync(
        Uri server, byte[] body, string? grpcEncoding = null, string contentType = "application/grpc", string path = TraceExport, string? grpcTimeout = null) =>
        SendAsync(server, new ByteArrayContent(body), grpcEncoding, contentType, path, grpcTimeout);

    public sealed record Answer(HttpStatusCode Http, StatusCode? Status, string? Message);
}

/// <summary>
/// A body that sends its first bytes, then never ends until disposed: an answer that arrives while it is being
/// sent proves the server did not wait for (or read) the rest.
/// </summary>
internal sealed class EndlessContent(byte[] start) : HttpContent
{
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(start);
        await stream.FlushAsync();
        await _disposed.Task;
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        _disposed.TrySetResult();
        base.Dispose(disposing);
    }
}
