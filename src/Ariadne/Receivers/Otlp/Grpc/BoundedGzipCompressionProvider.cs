using System.IO.Compression;
using Grpc.Core;
using Grpc.Net.Compression;

namespace Ariadne.Receivers.Otlp.Grpc;

/// <summary>
/// gzip for OTLP/gRPC requests with the size cap applied after decompression: Grpc.AspNetCore checks its maximum
/// message size against the compressed length only, so a small message could otherwise inflate without bound.
/// </summary>
internal sealed class BoundedGzipCompressionProvider(long maxDecompressedBytes) : ICompressionProvider
{
    public string EncodingName => "gzip";

    public Stream CreateCompressionStream(Stream stream, CompressionLevel? compressionLevel) =>
        new GZipStream(stream, compressionLevel ?? CompressionLevel.Fastest, leaveOpen: true);

    public Stream CreateDecompressionStream(Stream stream) =>
        new BoundedReadStream(new GZipStream(stream, CompressionMode.Decompress), maxDecompressedBytes);

    private sealed class BoundedReadStream(Stream inner, long maxBytes) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            _read += read;
            if (_read > maxBytes)
            {
                throw new RpcException(new Status(
                    StatusCode.ResourceExhausted,
                    $"The request decompresses to more than {maxBytes} bytes (Ingest:MaxRequestBytes); send smaller batches."));
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
