using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.IO.Pipelines;

namespace Ariadne.Receivers;

/// <summary>
/// A whole request body, or the one message of a unary gRPC call, for a receiver to decode before it answers (OTLP/HTTP,
/// Zipkin, OTLP/gRPC): an uncompressed one stays in the request's pipe, not copied; a gzip or deflate one is inflated
/// into a pooled buffer. Dispose it when done, which consumes the body from the pipe or returns the buffer to the pool.
/// </summary>
internal readonly struct RequestBody : IDisposable
{
    // Inflated bodies grow a pooled buffer from here; most batches are well under it.
    private const int InitialDecompressedBufferBytes = 64 * 1024;

    // gRPC's length-prefixed message: a compressed flag (0 or 1), then the length as a big-endian uint32.
    private const int GrpcFrameHeaderBytes = 5;

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
            return body is { } read ? new RequestBodyResult(read, RequestBodyError.None, null) : RequestBodyResult.TooLarge;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return RequestBodyResult.TooLarge;
        }
        catch (Exception e) when (IsCorruptCompressedData(e))
        {
            return RequestBodyResult.Malformed($"the body is not valid {Name(encoding)} data: {e.Message}");
        }
    }

    /// <summary>
    /// Reads the one length-prefixed message of a unary gRPC call. The declared length is checked against the limit
    /// before the message is read; a compressed message is inflated with the limit applied again. Anything that is
    /// not exactly one well-formed message (a compressed flag other than 0 or 1, a message cut short, a second
    /// message, corrupt compressed data) is <see cref="RequestBodyError.Malformed"/>, with a message that says what.
    /// <paramref name="encoding"/> is the grpc-encoding, which only a message flagged as compressed uses.
    /// </summary>
    public static async ValueTask<RequestBodyResult> ReadGrpcMessageAsync(PipeReader reader, ContentEncoding encoding, long limit, CancellationToken cancellationToken)
    {
        limit = Math.Min(limit, Array.MaxLength - 1);
        var result = await reader.ReadAtLeastAsync(GrpcFrameHeaderBytes, cancellationToken);
        var buffer = result.Buffer;
        if (buffer.Length < GrpcFrameHeaderBytes)
        {
            reader.AdvanceTo(buffer.End);
            return RequestBodyResult.Malformed(buffer.Length == 0
                ? "the call carries no message; a unary call sends one length-prefixed message"
                : $"the body ends after {buffer.Length} bytes, inside the 5-byte gRPC message header");
        }

        Span<byte> header = stackalloc byte[GrpcFrameHeaderBytes];
        buffer.Slice(0, GrpcFrameHeaderBytes).CopyTo(header);
        var flag = header[0];
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (flag > 1 || length > limit || (flag == 1 && encoding == ContentEncoding.Identity))
        {
            // Refused on the header alone: the rest of the body is never read.
            reader.AdvanceTo(buffer.Start, buffer.End);
            return flag > 1 ? RequestBodyResult.Malformed($"the gRPC message header has compressed flag {flag}; it must be 0 or 1")
                : length > limit ? RequestBodyResult.TooLarge
                : RequestBodyResult.Malformed("the message is flagged as compressed but the call has no grpc-encoding header; send grpc-encoding: gzip");
        }

        var frameLength = GrpcFrameHeaderBytes + (long)length;
        reader.AdvanceTo(buffer.Start, buffer.End);
        result = await reader.ReadAtLeastAsync((int)frameLength, cancellationToken);
        buffer = result.Buffer;
        // A unary call's body ends with its message; wait for the end unless more bytes already came.
        while (buffer.Length == frameLength && !result.IsCompleted)
        {
            reader.AdvanceTo(buffer.Start, buffer.End);
            result = await reader.ReadAsync(cancellationToken);
            buffer = result.Buffer;
        }

        if (buffer.Length != frameLength)
        {
            reader.AdvanceTo(buffer.End);
            return RequestBodyResult.Malformed(buffer.Length < frameLength
                ? string.Create(CultureInfo.InvariantCulture, $"the gRPC message header declares {length} bytes but the body ends after {buffer.Length - GrpcFrameHeaderBytes}")
                : "the body holds more than one gRPC message; a unary call sends exactly one");
        }

        var message = buffer.Slice(GrpcFrameHeaderBytes);
        if (flag == 0)
        {
            return new RequestBodyResult(new RequestBody(message, reader, rented: null), RequestBodyError.None, null);
        }

        try
        {
            await using var compressed = PipeReader.Create(message).AsStream();
            var inflated = await ReadDecompressedAsync(compressed, encoding, limit, cancellationToken);
            return inflated is { } read ? new RequestBodyResult(read, RequestBodyError.None, null) : RequestBodyResult.TooLarge;
        }
        catch (Exception e) when (IsCorruptCompressedData(e))
        {
            return RequestBodyResult.Malformed($"the message is not valid {Name(encoding)} data: {e.Message}");
        }
        finally
        {
            reader.AdvanceTo(buffer.End);
        }
    }

    /// <summary>
    /// Corrupt gzip or zlib data: <see cref="InvalidDataException"/>, or zlib's own error (its ZLibException, an
    /// <see cref="IOException"/> of System.IO.Compression that is not public), which a zlib header asking for a preset
    /// dictionary raises (found by the deflate-body fuzz target: a 500 before). A body that fails to arrive is neither.
    /// </summary>
    private static bool IsCorruptCompressedData(Exception e) =>
        e is InvalidDataException || (e is IOException && e.GetType().Namespace == typeof(ZLibStream).Namespace);

    private static string Name(ContentEncoding encoding) => encoding.ToString().ToLowerInvariant();

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

    /// <summary>Corrupt compressed data, or bad gRPC framing.</summary>
    Malformed,
}

/// <summary>A read body, or why there is none; <paramref name="Problem"/> says what is wrong with a malformed one.</summary>
internal readonly record struct RequestBodyResult(RequestBody Body, RequestBodyError Error, string? Problem)
{
    public static RequestBodyResult TooLarge => new(default, RequestBodyError.TooLarge, null);

    public static RequestBodyResult Malformed(string problem) => new(default, RequestBodyError.Malformed, problem);
}
