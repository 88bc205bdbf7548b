using System.Buffers;
using System.IO.Compression;
using Ariadne.Model;

namespace Ariadne.Pipeline.Log;

/// <summary>
/// One log segment record: the log records of one trace of one tenant from one request. The tenant and trace id
/// stay uncompressed in front, so a lookup skips other traces' records without decompressing them; the records
/// follow in <see cref="SpanCodec"/>'s encoding, Brotli-compressed. docs/storage-format.md describes the bytes.
/// </summary>
internal static class LogRecordCodec
{
    private const byte FormatVersion = 1;

    // A record holds one trace's records from one request, which is at most Ingest:MaxRequestBytes decoded.
    private const ulong MaxRecordBytes = 1UL << 30;

    // Brotli's quality 4 compresses about as well as zstd 3 on attribute-heavy text at a similar speed; higher
    // qualities cost several times the CPU on the ingest path.
    private const int BrotliQuality = 4;
    private const int BrotliWindowBits = 22;

    public static byte[] Encode(string tenant, TraceId traceId, IReadOnlyList<LogRecord> records)
    {
        var body = new ArrayBufferWriter<byte>(256 * records.Count);
        WriteRecords(body, records);
        var compressed = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(body.WrittenCount));
        try
        {
            if (!BrotliEncoder.TryCompress(body.WrittenSpan, compressed, out var compressedLength, BrotliQuality, BrotliWindowBits))
            {
                throw new InvalidOperationException("Brotli could not compress into its own maximum compressed length.");
            }

            var record = new ArrayBufferWriter<byte>(compressedLength + tenant.Length + 40);
            record.Write([FormatVersion]);
            SpanCodec.WriteString(record, tenant);
            SpanCodec.WriteFixed64(record, traceId.High);
            SpanCodec.WriteFixed64(record, traceId.Low);
            SpanCodec.WriteVarint(record, (ulong)body.WrittenCount);
            record.Write(compressed.AsSpan(0, compressedLength));
            return record.WrittenSpan.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    /// <summary>True when the record belongs to the tenant (as UTF-8) and trace; nothing is decompressed.</summary>
    public static bool Matches(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> tenantUtf8, TraceId traceId)
    {
        var reader = OpenHeader(payload);
        return reader.ReadBytesSpan().SequenceEqual(tenantUtf8) && ReadTraceId(ref reader) == traceId;
    }

    /// <summary>The record's tenant and trace id, for rebuilding the index when the store opens.</summary>
    public static (string Tenant, TraceId TraceId) ReadKey(ReadOnlySpan<byte> payload)
    {
        var reader = OpenHeader(payload);
        var tenant = reader.ReadString();
        return (tenant, ReadTraceId(ref reader));
    }

    /// <summary>Decompresses and decodes the log records, adding them to <paramref name="into"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> payload, TraceId traceId, List<LogRecord> into)
    {
        var header = OpenHeader(payload);
        header.ReadBytesSpan();
        ReadTraceId(ref header);
        var declared = header.ReadVarint();
        if (declared > MaxRecordBytes)
        {
            throw new InvalidDataException($"A log record claims {declared} bytes uncompressed, over the {MaxRecordBytes} a record can hold.");
        }

        var length = (int)declared;
        var compressed = payload[(1 + header.Position)..];
        var body = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            if (!BrotliDecoder.TryDecompress(compressed, body.AsSpan(0, length), out var written) || written != length)
            {
                throw new InvalidDataException($"A log record does not decompress to its {length} bytes.");
            }

            ReadRecords(new SpanCodecReader(body.AsSpan(0, length)), traceId, into);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    private static SpanCodecReader OpenHeader(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty || payload[0] != FormatVersion)
        {
            throw new InvalidDataException($"Log record format {(payload.IsEmpty ? "(empty)" : payload[0])} is not {FormatVersion}.");
        }

        return new SpanCodecReader(payload[1..]);
    }

    private static TraceId ReadTraceId(ref SpanCodecReader reader) => new(reader.ReadFixed64(), reader.ReadFixed64());

    private static void ReadRecords(SpanCodecReader reader, TraceId traceId, List<LogRecord> into)
    {
        var resources = new Resource[reader.ReadCount()];
        for (var i = 0; i < resources.Length; i++)
        {
            resources[i] = reader.ReadResource();
        }

        var scopes = new InstrumentationScope[reader.ReadCount()];
        for (var i = 0; i < scopes.Length; i++)
        {
            scopes[i] = reader.ReadScope();
        }

        var count = reader.ReadCount();
        for (var i = 0; i < count; i++)
        {
            var time = reader.ReadSigned();
            into.Add(new LogRecord
            {
                TraceId = traceId,
                TimeUnixNano = time,
                ObservedTimeUnixNano = time + reader.ReadSigned(),
                SeverityNumber = (int)reader.ReadSigned(),
                SeverityText = reader.ReadString(),
                Body = reader.ReadValue(),
                Attributes = reader.ReadAttributes(),
                DroppedAttributesCount = (uint)reader.ReadVarint(),
                Flags = (uint)reader.ReadVarint(),
                SpanId = new SpanId(reader.ReadFixed64()),
                EventName = reader.ReadString(),
                Resource = Lookup(resources, reader.ReadVarint()),
                Scope = Lookup(scopes, reader.ReadVarint()),
            });
        }
    }

    private static T Lookup<T>(T[] table, ulong index) =>
        index < (ulong)table.Length ? table[index] : throw new InvalidDataException($"Reference {index} past a table of {table.Length}.");

    private static void WriteRecords(IBufferWriter<byte> writer, IReadOnlyList<LogRecord> records)
    {
        var resources = new Dictionary<Resource, int>(ReferenceEqualityComparer.Instance);
        var scopes = new Dictionary<InstrumentationScope, int>(ReferenceEqualityComparer.Instance);
        foreach (var record in records)
        {
            resources.TryAdd(record.Resource, resources.Count);
            scopes.TryAdd(record.Scope, scopes.Count);
        }

        SpanCodec.WriteVarint(writer, (ulong)resources.Count);
        foreach (var resource in resources.Keys)
        {
            SpanCodec.WriteResource(writer, resource);
        }

        SpanCodec.WriteVarint(writer, (ulong)scopes.Count);
        foreach (var scope in scopes.Keys)
        {
            SpanCodec.WriteScope(writer, scope);
        }

        SpanCodec.WriteVarint(writer, (ulong)records.Count);
        foreach (var record in records)
        {
            SpanCodec.WriteSigned(writer, record.TimeUnixNano);
            SpanCodec.WriteSigned(writer, record.ObservedTimeUnixNano - record.TimeUnixNano);
            SpanCodec.WriteSigned(writer, record.SeverityNumber);
            SpanCodec.WriteString(writer, record.SeverityText);
            SpanCodec.WriteValue(writer, record.Body);
            SpanCodec.WriteAttributes(writer, record.Attributes);
            SpanCodec.WriteVarint(writer, record.DroppedAttributesCount);
            SpanCodec.WriteVarint(writer, record.Flags);
            SpanCodec.WriteFixed64(writer, record.SpanId.Value);
            SpanCodec.WriteString(writer, record.EventName);
            SpanCodec.WriteVarint(writer, (ulong)resources[record.Resource]);
            SpanCodec.WriteVarint(writer, (ulong)scopes[record.Scope]);
        }
    }
}
