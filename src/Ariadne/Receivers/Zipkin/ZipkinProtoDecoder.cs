using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Unicode;
using Ariadne.Model;

namespace Ariadne.Receivers.Zipkin;

/// <summary>
/// Reads Zipkin's proto3 encoding (<c>application/x-protobuf</c>, <c>zipkin.proto3.ListOfSpans</c> from
/// zipkin-api's zipkin.proto). Unknown fields are skipped by wire type; a truncated or inconsistent message throws
/// <see cref="ZipkinFormatException"/>.
/// </summary>
internal static class ZipkinProtoDecoder
{
    // zipkin.proto field numbers.
    private const int ListOfSpansSpans = 1;
    private const int SpanTraceId = 1;
    private const int SpanParentId = 2;
    private const int SpanId = 3;
    private const int SpanKind = 4;
    private const int SpanName = 5;
    private const int SpanTimestamp = 6;
    private const int SpanDuration = 7;
    private const int SpanLocalEndpoint = 8;
    private const int SpanRemoteEndpoint = 9;
    private const int SpanAnnotations = 10;
    private const int SpanTags = 11;
    private const int SpanDebug = 12;
    private const int SpanShared = 13;
    private const int EndpointServiceName = 1;
    private const int EndpointIpv4 = 2;
    private const int EndpointIpv6 = 3;
    private const int EndpointPort = 4;
    private const int AnnotationTimestamp = 1;
    private const int AnnotationValue = 2;
    private const int MapKey = 1;
    private const int MapValue = 2;

    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;

    public static void Decode(ReadOnlySpan<byte> payload, ZipkinSpanMapper mapper)
    {
        var reader = new Reader(payload);
        var span = new ZipkinSpan();
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == ListOfSpansSpans && wire == WireLengthDelimited)
            {
                span.Reset();
                ReadSpan(reader.ReadLengthDelimited(), span);
                mapper.Add(span);
            }
            else
            {
                reader.Skip(wire);
            }
        }
    }

    private static void ReadSpan(ReadOnlySpan<byte> message, ZipkinSpan span)
    {
        var reader = new Reader(message);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case SpanTraceId when wire == WireLengthDelimited:
                    var traceId = reader.ReadLengthDelimited();
                    span.HasTraceId = true;
                    if (traceId.Length == 16)
                    {
                        span.TraceId = TraceId.FromBytes(traceId);
                    }
                    else if (traceId.Length == 8)
                    {
                        span.TraceId = new TraceId(0, BinaryPrimitives.ReadUInt64BigEndian(traceId));
                    }
                    else
                    {
                        span.MarkInvalid($"trace_id has {traceId.Length} bytes; it must have 8 or 16");
                    }

                    break;
                case SpanParentId when wire == WireLengthDelimited:
                    var parentId = reader.ReadLengthDelimited();
                    if (parentId.Length == 8)
                    {
                        span.ParentId = Model.SpanId.FromBytes(parentId);
                    }
                    else if (parentId.Length != 0)
                    {
                        span.MarkInvalid($"parent_id has {parentId.Length} bytes; it must have 8");
                    }

                    break;
                case SpanId when wire == WireLengthDelimited:
                    var id = reader.ReadLengthDelimited();
                    span.HasId = true;
                    if (id.Length == 8)
                    {
                        span.Id = Model.SpanId.FromBytes(id);
                    }
                    else
                    {
                        span.MarkInvalid($"id has {id.Length} bytes; it must have 8");
                    }

                    break;
                case SpanKind when wire == WireVarint:
                    span.Kind = reader.ReadVarint() switch
                    {
                        1 => Model.SpanKind.Client,
                        2 => Model.SpanKind.Server,
                        3 => Model.SpanKind.Producer,
                        4 => Model.SpanKind.Consumer,
                        _ => Model.SpanKind.Unspecified,
                    };
                    break;
                case SpanName when wire == WireLengthDelimited:
                    span.Name = reader.ReadString();
                    break;
                case SpanTimestamp when wire == WireFixed64:
                    span.Timestamp = (long)reader.ReadFixed64();
                    break;
                case SpanDuration when wire == WireVarint:
                    span.Duration = (long)reader.ReadVarint();
                    break;
                case SpanLocalEndpoint when wire == WireLengthDelimited:
                    span.LocalEndpoint = ReadEndpoint(reader.ReadLengthDelimited());
                    break;
                case SpanRemoteEndpoint when wire == WireLengthDelimited:
                    span.RemoteEndpoint = ReadEndpoint(reader.ReadLengthDelimited());
                    break;
                case SpanAnnotations when wire == WireLengthDelimited:
                    ReadAnnotation(reader.ReadLengthDelimited(), span);
                    break;
                case SpanTags when wire == WireLengthDelimited:
                    ReadTag(reader.ReadLengthDelimited(), span);
                    break;
                case SpanDebug when wire == WireVarint:
                    span.Debug = reader.ReadVarint() != 0;
                    break;
                case SpanShared when wire == WireVarint:
                    span.Shared = reader.ReadVarint() != 0;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
    }

    private static ZipkinEndpoint ReadEndpoint(ReadOnlySpan<byte> message)
    {
        var reader = new Reader(message);
        string? serviceName = null, ipv4 = null, ipv6 = null;
        var port = 0;
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case EndpointServiceName when wire == WireLengthDelimited:
                    serviceName = reader.ReadString();
                    break;
                case EndpointIpv4 when wire == WireLengthDelimited:
                    ipv4 = ReadAddress(reader.ReadLengthDelimited(), 4, "ipv4");
                    break;
                case EndpointIpv6 when wire == WireLengthDelimited:
                    ipv6 = ReadAddress(reader.ReadLengthDelimited(), 16, "ipv6");
                    break;
                case EndpointPort when wire == WireVarint:
                    port = (int)reader.ReadVarint();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new ZipkinEndpoint(serviceName, ipv4, ipv6, port);
    }

    private static string? ReadAddress(ReadOnlySpan<byte> bytes, int length, string field) => bytes.Length switch
    {
        0 => null,
        _ when bytes.Length == length => new IPAddress(bytes).ToString(),
        _ => throw new ZipkinFormatException($"endpoint {field} has {bytes.Length} bytes; it must have {length}"),
    };

    private static void ReadAnnotation(ReadOnlySpan<byte> message, ZipkinSpan span)
    {
        var reader = new Reader(message);
        long timestamp = 0;
        var value = string.Empty;
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == AnnotationTimestamp && wire == WireFixed64)
            {
                timestamp = (long)reader.ReadFixed64();
            }
            else if (field == AnnotationValue && wire == WireLengthDelimited)
            {
                value = reader.ReadString();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        if (value.Length > 0)
        {
            span.Annotations.Add((timestamp, value));
        }
    }

    private static void ReadTag(ReadOnlySpan<byte> entry, ZipkinSpan span)
    {
        var reader = new Reader(entry);
        string key = string.Empty, value = string.Empty;
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == MapKey && wire == WireLengthDelimited)
            {
                key = reader.ReadString();
            }
            else if (field == MapValue && wire == WireLengthDelimited)
            {
                value = reader.ReadString();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        span.Tags.Add(new KeyValuePair<string, string>(key, value));
    }

    private ref struct Reader(ReadOnlySpan<byte> buffer)
    {
        private readonly ReadOnlySpan<byte> _buffer = buffer;
        private int _position;

        public readonly bool End => _position >= _buffer.Length;

        public (int Field, int Wire) ReadTag()
        {
            var tag = ReadVarint();
            var field = tag >> 3;
            if (field is 0 or > int.MaxValue)
            {
                throw Truncated("a field tag is invalid");
            }

            return ((int)field, (int)(tag & 7));
        }

        public ulong ReadVarint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _buffer.Length)
                {
                    throw Truncated("a varint runs past the end");
                }

                var b = _buffer[_position++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }

            throw Truncated("a varint is longer than 10 bytes");
        }

        public ulong ReadFixed64()
        {
            if (_buffer.Length - _position < 8)
            {
                throw Truncated("a fixed64 runs past the end");
            }

            var value = BinaryPrimitives.ReadUInt64LittleEndian(_buffer[_position..]);
            _position += 8;
            return value;
        }

        public ReadOnlySpan<byte> ReadLengthDelimited()
        {
            var length = ReadVarint();
            if (length > (ulong)(_buffer.Length - _position))
            {
                throw Truncated("a length-delimited field runs past the end");
            }

            var slice = _buffer.Slice(_position, (int)length);
            _position += (int)length;
            return slice;
        }

        /// <summary>A proto3 string, which must be valid UTF-8 (as protobuf requires): refused rather than stored with U+FFFD.</summary>
        public string ReadString()
        {
            var utf8 = ReadLengthDelimited();
            if (!Utf8.IsValid(utf8))
            {
                throw new ZipkinFormatException("a string field holds invalid UTF-8; protobuf strings must be valid UTF-8 (send bytes fields as bytes, or fix the client's encoding)");
            }

            return Encoding.UTF8.GetString(utf8);
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case WireVarint:
                    ReadVarint();
                    break;
                case WireFixed64:
                    ReadFixed64();
                    break;
                case WireLengthDelimited:
                    ReadLengthDelimited();
                    break;
                case WireFixed32 when _buffer.Length - _position >= 4:
                    _position += 4;
                    break;
                default:
                    throw Truncated($"wire type {wire} is not valid here");
            }
        }

        private static ZipkinFormatException Truncated(string what) =>
            new($"the protobuf body is not a valid zipkin.proto3.ListOfSpans: {what}");
    }
}
