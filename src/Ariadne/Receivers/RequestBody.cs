using System.Buffers;
using System.IO.Compression;

namespace Ariadne.Receivers;

/// <summary>
/// A whole request body in one pooled buffer, gzip already inflated. Receivers decode from <see cref="Span"/>
/// and dispose it when done, which returns the buffer to the pool.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    private const int InitialBufferSize = 64 * 1024;

    private byte[] _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads the body of <paramref name="request"/>. The limit applies to the bytes after decompression, so a small
    /// gzip bomb is refused as soon as it inflates past the limit, without inflating the rest.
    /// </summary>
    public static async ValueTask<RequestBodyResult> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var encoding = request.Headers.ContentEncoding.ToString();
        Stream source;
        if (encoding.Length == 0 || encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            source = request.Body;
        }
        else if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            source = new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
        }
        else
        {
            return new RequestBodyResult(null, RequestBodyError.UnsupportedEncoding);
        }

        var initial = (int)Math.Min(limit + 1, request.ContentLength is > 0 and < int.MaxValue / 2
            ? Math.Max(request.ContentLength.Value + 1, 4096) : InitialBufferSize);
        var buffer = ArrayPool<byte>.Shared.Rent(initial);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        break;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, Math.Min(limit + 1, Array.MaxLength)));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await source.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            if (length > limit)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return new RequestBodyResult(null, RequestBodyError.TooLarge);
            }

            return new RequestBodyResult(new RequestBody(buffer, length), RequestBodyError.None);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return new RequestBodyResult(null, RequestBodyError.TooLarge);
        }
        catch (InvalidDataException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return new RequestBodyResult(null, RequestBodyError.CorruptCompression);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        finally
        {
            if (!ReferenceEquals(source, request.Body))
            {
                await source.DisposeAsync();
            }
        }
    }
}

internal enum RequestBodyError
{
    None,
    TooLarge,
    UnsupportedEncoding,
    CorruptCompression,
}

internal readonly record struct RequestBodyResult(RequestBody? Body, RequestBodyError Error);
