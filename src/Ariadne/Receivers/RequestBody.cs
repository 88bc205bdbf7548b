using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;

namespace Ariadne.Receivers;

/// <summary>
/// A whole request body, for a receiver to decode before it answers (OTLP/HTTP, Zipkin): an uncompressed one stays in
/// the request's pipe, not copied; a gzip or deflate one is inflated into a pooled buffer. Dispose it when done,
/// which consumes the body from the pipe or returns the buffer to the pool.
/// </summary>
internal readonly struct RequestBody : IDisposable
{
    // Inflated bodies grow a pooled buffer from here; most batches are well under it.
    private const int InitialDecompressedBufferBytes = 64 * 1024;

    private readonly PipeReader? _reader;
    private readonly byte[]? _rented;

    private RequestBody(ReadOnlySequence<byte> data, PipeReader? reader, byte[]? rented)
    {
        Data = data;
        _reader = reader;
        _rented = rented;
    }

    public ReadOnlySequence<byte> Data { get; }

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
        }
        else
        {
            _reader?.AdvanceTo(Data.End);
        }
    }

    /// <summary>The Content-Encoding header as one of the encodings read here, or null for any other.</summary>
    public static ContentEncoding? ParseEncoding(string contentEncoding) => contentEncoding.Trim().ToLowerInvariant() switch
    {
        "" or "identity" => ContentEncoding.Identity,
        "gzip" => ContentEncoding.Gzip,
        "deflate" => ContentEncoding.Deflate,
        _ => null,
    };

    /// <summary>
    /// Reads the body of <paramref name="request"/>. The limit applies to the bytes after decompression, so a small
    /// gzip bomb is refused as soon as it inflates past the limit, without inflating the rest.
    /// </summary>
    public static async ValueTask<RequestBodyResult> ReadAsync(HttpRequest request, ContentEncoding encoding, long limit, CancellationToken cancellationToken)
    {
        limit = Math.Min(limit, Array.MaxLength - 1);
        try
        {
            var body = encoding == ContentEncoding.Identity
                ? await ReadAsync(request.BodyReader, limit, cancellationToken)
                : await ReadDecompressedAsync(request.Body, encoding, limit, cancellationToken);
            return body is { } read ? new RequestBodyResult(read, RequestBodyError.None, null) : new RequestBodyResult(default, RequestBodyError.TooLarge, null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new RequestBodyResult(default, RequestBodyError.TooLarge, null);
        }
        catch (InvalidDataException e)
        {
            return new RequestBodyResult(default, RequestBodyError.CorruptCompression, e.Message);
        }
    }

    /// <summary>The body left in the pipe until it is decoded, or null when it is over the limit.</summary>
    private static async ValueTask<RequestBody?> ReadAsync(PipeReader reader, long limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                return new RequestBody(buffer, reader, rented: null);
            }

            // Examine everything, consume nothing: the whole body stays in the pipe until it is decoded.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>The inflated body in a pooled buffer, or null as soon as it inflates past the limit.</summary>
    private static async ValueTask<RequestBody?> ReadDecompressedAsync(Stream body, ContentEncoding encoding, long limit, CancellationToken cancellationToken)
    {
        // HTTP's "deflate" is the zlib format (RFC 9110), which is also what OTel exporters send.
        await using Stream decompressor = encoding == ContentEncoding.Gzip
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
                    if (length > limit)
                    {
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * buffer.Length, limit + 1));
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

            if (length > limit)
            {
                return null;
            }

            handedOver = true;
            return new RequestBody(new ReadOnlySequence<byte>(buffer, 0, length), reader: null, buffer);
        }
        finally
        {
            if (!handedOver)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}

/// <summary>The Content-Encoding values the receivers read (each says which it accepts).</summary>
internal enum ContentEncoding
{
    Identity,
    Gzip,
    Deflate,
}

internal enum RequestBodyError
{
    None,
    TooLarge,
    CorruptCompression,
}

/// <summary>A read body, or why there is none; <paramref name="CorruptionMessage"/> says what is wrong with corrupt compressed data.</summary>
internal readonly record struct RequestBodyResult(RequestBody Body, RequestBodyError Error, string? CorruptionMessage);
