using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Numerics;
using Ariadne.Model;
using Ariadne.Pipeline.Log;
using Microsoft.Win32.SafeHandles;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// <c>index.bin</c> (format version 3): per row group, which rows hold each service, each operation, an error, and each
/// value of the attribute keys with few distinct values there. A search looks its service, operation and tags up here
/// before opening the row group: a row group without a matching row is never decoded, and in one that has some, only
/// those rows are candidates and no name or attribute column is read to check what the index answered exactly.
/// </summary>
/// <remarks>
/// <para>File: <c>u32 row-group count</c>, then count + 1 <c>u64</c> offsets (from the file's start) of the row groups'
/// sections, the last one the file's length; all little-endian. A section is <c>u32 uncompressed length</c> then the
/// body, Brotli-compressed. Sections are read one at a time when a search gets to their row group, not kept in memory.</para>
/// <para>Body (varints and strings as in the span codec): rows; field count; per field: kind (1 service, 2 operation,
/// 3 error, 4 attribute), for an attribute its key, the value count k, the values (service and operation: strings;
/// attribute: the 64-bit <see cref="TagFilters.Hash"/> of (key, value text); error: none, k = 1), then either
/// <c>j + 1</c> (the same row ordinals as field j) or 0 followed by every row's ordinal (0 absent, i the i-th value)
/// bit-packed, least significant bit first, in <c>bits = ⌊log2 k⌋ + 1</c> bits. Then the count and keys of the
/// attribute keys present in the row group but not indexed (more than <see cref="MaxAttributeValues"/> values, or a
/// span with two different values of the key). An attribute key in neither list is in no span of the row group.</para>
/// <para>The error field is exactly <see cref="SpanMatcher.HasTag"/> with (<c>error</c>, <c>true</c>); an attribute's
/// rows are those with the value in any attribute list (span, resource, scope, event, link), so <c>key=value</c> is
/// answered exactly and <c>resource.key=value</c> is narrowed to a superset. Attribute values are told apart by a 64-bit
/// hash: two values of one key in one row group would have to collide.</para>
/// </remarks>
public sealed class SearchIndex : IDisposable
{
    public const string FileName = "index.bin";

    /// <summary>
    /// Attribute keys with more distinct values in a row group are left to the tag filters (tags.bin). Per-trace ids
    /// (users, sessions) would cost a row-sized ordinal array each and rarely prune better than the bloom filter.
    /// </summary>
    public const int MaxAttributeValues = 16;

    private const int MaxNameValues = 65_535;

    private readonly string _path;
    private readonly long[] _offsets;
    private readonly Lock _lock = new();
    private SafeFileHandle? _handle;

    private SearchIndex(string path, long[] offsets)
    {
        _path = path;
        _offsets = offsets;
    }

    /// <summary>Opens index.bin and reads its section offsets; checks them against the file's length and the row groups.</summary>
    public static SearchIndex Open(string path, int rowGroups, long expectedBytes)
    {
        using var handle = File.OpenHandle(path);
        var length = RandomAccess.GetLength(handle);
        if (length != expectedBytes)
        {
            throw new InvalidDataException($"{FileName} is {length} bytes, its metadata says {expectedBytes} (truncated?)");
        }

        var header = new byte[4 + (rowGroups + 1) * 8];
        if (RandomAccess.Read(handle, header, 0) != header.Length || BinaryPrimitives.ReadInt32LittleEndian(header) != rowGroups)
        {
            throw new InvalidDataException($"{FileName} does not hold one section per row group ({rowGroups}).");
        }

        var offsets = new long[rowGroups + 1];
        for (var g = 0; g <= rowGroups; g++)
        {
            offsets[g] = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(4 + g * 8));
            if (offsets[g] < (g == 0 ? header.Length : offsets[g - 1]) || offsets[g] > length)
            {
                throw new InvalidDataException($"{FileName}: the offset of row group {g} is out of order.");
            }
        }

        if (offsets[rowGroups] != length)
        {
            throw new InvalidDataException($"{FileName}: its sections end at {offsets[rowGroups]}, the file at {length}.");
        }

        return new SearchIndex(path, offsets);
    }

    /// <summary>Reads and decodes the section of one row group.</summary>
    public RowGroupIndex Read(int rowGroup)
    {
        var compressed = new byte[_offsets[rowGroup + 1] - _offsets[rowGroup]];
        if (RandomAccess.Read(Handle(), compressed, _offsets[rowGroup]) != compressed.Length || compressed.Length < 4)
        {
            throw new InvalidDataException($"{FileName}: the section of row group {rowGroup} is cut short.");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(compressed);
        var body = new byte[length];
        if (length < 0 || !BrotliDecoder.TryDecompress(compressed.AsSpan(4), body, out var written) || written != length)
        {
            throw new InvalidDataException($"{FileName}: the section of row group {rowGroup} does not decompress to its {length} bytes.");
        }

        return RowGroupIndex.Parse(body);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _handle?.Dispose();
            _handle = null;
        }
    }

    private SafeFileHandle Handle()
    {
        lock (_lock)
        {
            return _handle ??= File.OpenHandle(_path);
        }
    }

    internal enum FieldKind : byte
    {
        Service = 1,
        Operation = 2,
        Error = 3,
        Attribute = 4,
    }

    /// <summary>Collects one row group's rows at a time while a block is written; call <see cref="BeginRow"/> for each span, then its attributes.</summary>
    public sealed class Builder
    {
        private readonly List<byte[]> _sections = [];
        private readonly ArrayBufferWriter<byte> _body = new(1 << 16);
        private readonly NameField _services = new();
        private readonly NameField _operations = new();
        private readonly List<int> _errorRows = [];
        private readonly Dictionary<string, AttributeField> _attributes = new(StringComparer.Ordinal);

        // A row group's fields are reused by the next one: their row lists keep their capacity instead of growing again.
        private readonly Stack<AttributeField> _spareFields = new();
        private int _row = -1;

        public void BeginRow(Span span)
        {
            _row++;
            _services.Add(span.ServiceName);
            _operations.Add(span.Name);
            if (SpanMatcher.HasTag(span, "error", "true"))
            {
                _errorRows.Add(_row);
            }
        }

        /// <summary>
        /// The field of an attribute key in the current row group, to hand to <see cref="AddAttribute"/>; callers keep it
        /// for the row group (until <see cref="EndRowGroup"/>) and skip this lookup.
        /// </summary>
        internal AttributeField Field(string key)
        {
            if (!_attributes.TryGetValue(key, out var field))
            {
                field = _spareFields.Count > 0 ? _spareFields.Pop() : new AttributeField();
                _attributes.Add(key, field);
            }

            return field;
        }

        /// <summary>An attribute of the current row's span (from any of its lists), by its <see cref="TagFilters.Hash"/>.</summary>
        internal void AddAttribute(AttributeField field, ulong hash) => field.Add(hash, _row);

        public void EndRowGroup()
        {
            var rows = _row + 1;
            var fields = new List<PendingField>();
            if (!_services.Overflow)
            {
                fields.Add(new(SearchIndex.FieldKind.Service, null, _services.Values.Count, w => _services.Values.ForEach(v => SpanCodec.WriteString(w, v)), Pack(_services.Ordinals, _services.Values.Count, rows)));
            }

            if (!_operations.Overflow)
            {
                fields.Add(new(SearchIndex.FieldKind.Operation, null, _operations.Values.Count, w => _operations.Values.ForEach(v => SpanCodec.WriteString(w, v)), Pack(_operations.Ordinals, _operations.Values.Count, rows)));
            }

            fields.Add(new(SearchIndex.FieldKind.Error, null, 1, _ => { }, PackRows(_errorRows, rows)));
            foreach (var (key, field) in _attributes.Where(a => !a.Value.Overflow).OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                fields.Add(new(SearchIndex.FieldKind.Attribute, key, field.Hashes.Count, w => field.Hashes.ForEach(h => SpanCodec.WriteFixed64(w, h)), Pack(field.Ordinals, field.Hashes.Count, rows)));
            }

            _body.ResetWrittenCount();
            SpanCodec.WriteVarint(_body, (ulong)rows);
            SpanCodec.WriteVarint(_body, (ulong)fields.Count);
            // Fields that split the rows alike (service, service.name, host.name...) share one copy of the ordinals.
            var firstWithOrdinals = new Dictionary<ulong, int>();
            for (var i = 0; i < fields.Count; i++)
            {
                var field = fields[i];
                SpanCodec.WriteVarint(_body, (ulong)field.Kind);
                if (field.Key is not null)
                {
                    SpanCodec.WriteString(_body, field.Key);
                }

                SpanCodec.WriteVarint(_body, (ulong)field.Count);
                field.WriteValues(_body);
                var hash = XxHash64.HashToUInt64(field.Packed, Bits(field.Count));
                if (firstWithOrdinals.TryGetValue(hash, out var same) && Bits(fields[same].Count) == Bits(field.Count) && fields[same].Packed.AsSpan().SequenceEqual(field.Packed))
                {
                    SpanCodec.WriteVarint(_body, (ulong)same + 1);
                    continue;
                }

                firstWithOrdinals.TryAdd(hash, i);
                SpanCodec.WriteVarint(_body, 0);
                SpanCodec.WriteBytes(_body, field.Packed);
            }

            WriteStrings(_body, _attributes.Where(a => a.Value.Overflow).Select(a => a.Key).Order(StringComparer.Ordinal).ToList());
            var compressed = new byte[4 + BrotliEncoder.GetMaxCompressedLength(_body.WrittenCount)];
            BinaryPrimitives.WriteInt32LittleEndian(compressed, _body.WrittenCount);
            if (!BrotliEncoder.TryCompress(_body.WrittenSpan, compressed.AsSpan(4), out var written, quality: 5, window: 22))
            {
                throw new InvalidOperationException("Brotli could not compress a search index section into its maximum size.");
            }

            _sections.Add(compressed.AsSpan(0, 4 + written).ToArray());
            _services.Clear();
            _operations.Clear();
            _errorRows.Clear();
            foreach (var field in _attributes.Values)
            {
                field.Clear();
                _spareFields.Push(field);
            }

            _attributes.Clear();
            _row = -1;
        }

        public byte[] ToBytes()
        {
            var header = 4 + (_sections.Count + 1) * 8;
            var bytes = new byte[header + _sections.Sum(s => s.Length)];
            BinaryPrimitives.WriteInt32LittleEndian(bytes, _sections.Count);
            long offset = header;
            for (var g = 0; g <= _sections.Count; g++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(4 + g * 8), offset);
                if (g < _sections.Count)
                {
                    _sections[g].CopyTo(bytes, offset);
                    offset += _sections[g].Length;
                }
            }

            return bytes;
        }

        private sealed record PendingField(SearchIndex.FieldKind Kind, string? Key, int Count, Action<IBufferWriter<byte>> WriteValues, byte[] Packed);

        private static void WriteStrings(IBufferWriter<byte> writer, List<string> values)
        {
            SpanCodec.WriteVarint(writer, (ulong)values.Count);
            foreach (var value in values)
            {
                SpanCodec.WriteString(writer, value);
            }
        }

        private static byte[] Pack(List<int> ordinals, int values, int rows)
        {
            var bits = Bits(values);
            var packed = new byte[(rows * (long)bits + 7) / 8];
            for (var row = 0; row < ordinals.Count; row++)
            {
                var ordinal = ordinals[row];
                for (var b = 0; b < bits && ordinal != 0; b++, ordinal >>= 1)
                {
                    if ((ordinal & 1) != 0)
                    {
                        var bit = (long)row * bits + b;
                        packed[bit >> 3] |= (byte)(1 << (int)(bit & 7));
                    }
                }
            }

            return packed;
        }

        private static byte[] PackRows(List<int> rows, int rowCount)
        {
            var packed = new byte[(rowCount + 7) / 8];
            foreach (var row in rows)
            {
                packed[row >> 3] |= (byte)(1 << (row & 7));
            }

            return packed;
        }

        /// <summary>A service or operation name per row; past <see cref="MaxNameValues"/> names the field is dropped.</summary>
        private sealed class NameField
        {
            private readonly Dictionary<string, int> _ordinals = new(StringComparer.Ordinal);

            public List<string> Values { get; } = [];

            public List<int> Ordinals { get; } = [];

            public bool Overflow { get; private set; }

            public void Add(string name)
            {
                if (Overflow)
                {
                    return;
                }

                if (!_ordinals.TryGetValue(name, out var ordinal))
                {
                    if (Values.Count == MaxNameValues)
                    {
                        Overflow = true;
                        return;
                    }

                    Values.Add(name);
                    ordinal = Values.Count;
                    _ordinals.Add(name, ordinal);
                }

                Ordinals.Add(ordinal);
            }

            public void Clear()
            {
                _ordinals.Clear();
                Values.Clear();
                Ordinals.Clear();
                Overflow = false;
            }
        }

        /// <summary>An attribute key's value per row (0 where a span lacks it), until it has too many values or a row has two.</summary>
        internal sealed class AttributeField
        {
            private ulong _lastHash;
            private int _lastOrdinal;

            public List<ulong> Hashes { get; } = [];

            public List<int> Ordinals { get; } = [];

            public bool Overflow { get; private set; }

            public void Add(ulong hash, int row)
            {
                if (Overflow)
                {
                    return;
                }

                var ordinal = hash == _lastHash && _lastOrdinal != 0 ? _lastOrdinal : Hashes.IndexOf(hash) + 1;
                if (ordinal == 0)
                {
                    if (Hashes.Count == MaxAttributeValues)
                    {
                        Drop();
                        return;
                    }

                    Hashes.Add(hash);
                    ordinal = Hashes.Count;
                }

                (_lastHash, _lastOrdinal) = (hash, ordinal);
                while (Ordinals.Count <= row)
                {
                    Ordinals.Add(0);
                }

                if (Ordinals[row] != 0 && Ordinals[row] != ordinal)
                {
                    // Two values of the key on one span (say a span attribute and an event's): one ordinal per row cannot say it.
                    Drop();
                    return;
                }

                Ordinals[row] = ordinal;
            }

            public void Clear()
            {
                Hashes.Clear();
                Ordinals.Clear();
                Overflow = false;
                _lastOrdinal = 0;
            }

            private void Drop()
            {
                Clear();
                Overflow = true;
            }
        }
    }

    internal static int Bits(int values) => values == 0 ? 0 : BitOperations.Log2((uint)values) + 1;
}

/// <summary>The decoded index section of one row group: the rows each indexed value is on, as a bit mask.</summary>
public sealed class RowGroupIndex
{
    private readonly List<Field> _fields;
    private readonly HashSet<string> _unindexedKeys;

    private RowGroupIndex(int rows, List<Field> fields, HashSet<string> unindexedKeys)
    {
        Rows = rows;
        _fields = fields;
        _unindexedKeys = unindexedKeys;
    }

    public int Rows { get; }

    /// <summary>
    /// The rows whose service is <paramref name="name"/> (all zero when none); null when the row group's services are
    /// not indexed (more than 65,535 of them).
    /// </summary>
    public ulong[]? ServiceRows(string name) => NameRows(SearchIndex.FieldKind.Service, name);

    public ulong[]? OperationRows(string name) => NameRows(SearchIndex.FieldKind.Operation, name);

    /// <summary>The rows a (<c>error</c>, <c>true</c>) tag matches.</summary>
    public ulong[] ErrorRows() => RowsOf(_fields.Single(f => f.Kind == SearchIndex.FieldKind.Error), 1);

    /// <summary>
    /// The rows with (<paramref name="key"/>, value) in one of their attribute lists, the value given by its
    /// <see cref="TagFilters.Hash"/>: all zero when no span of the row group has the key or the value; null when the
    /// key is there but not indexed.
    /// </summary>
    public ulong[]? AttributeRows(string key, ulong hash)
    {
        foreach (var field in _fields)
        {
            if (field.Kind == SearchIndex.FieldKind.Attribute && field.Key == key)
            {
                var ordinal = Array.IndexOf(field.Hashes!, hash);
                return ordinal < 0 ? new ulong[Words] : RowsOf(field, ordinal + 1);
            }
        }

        return _unindexedKeys.Contains(key) ? null : new ulong[Words];
    }

    private int Words => (Rows + 63) / 64;

    private ulong[]? NameRows(SearchIndex.FieldKind kind, string name)
    {
        var field = _fields.FirstOrDefault(f => f.Kind == kind);
        if (field is null)
        {
            return null;
        }

        var ordinal = Array.IndexOf(field.Names!, name);
        return ordinal < 0 ? new ulong[Words] : RowsOf(field, ordinal + 1);
    }

    private ulong[] RowsOf(Field field, int ordinal)
    {
        var mask = new ulong[Words];
        var packed = field.Packed;
        var bits = field.Bits;
        for (var row = 0; row < Rows; row++)
        {
            var first = (long)row * bits;
            var value = 0;
            for (var b = 0; b < bits; b++)
            {
                var bit = first + b;
                value |= ((packed[(int)(bit >> 3)] >> (int)(bit & 7)) & 1) << b;
            }

            if (value == ordinal)
            {
                mask[row >> 6] |= 1UL << (row & 63);
            }
        }

        return mask;
    }

    internal static RowGroupIndex Parse(byte[] body)
    {
        var reader = new SpanCodecReader(body);
        var rows = (int)Math.Min(reader.ReadVarint(), int.MaxValue);
        var count = reader.ReadCount();
        var fields = new List<Field>(count);
        for (var i = 0; i < count; i++)
        {
            var kind = (SearchIndex.FieldKind)reader.ReadVarint();
            var key = kind == SearchIndex.FieldKind.Attribute ? reader.ReadString() : null;
            var values = reader.ReadCount();
            string[]? names = null;
            ulong[]? hashes = null;
            switch (kind)
            {
                case SearchIndex.FieldKind.Service or SearchIndex.FieldKind.Operation:
                    names = new string[values];
                    for (var v = 0; v < values; v++)
                    {
                        names[v] = reader.ReadString();
                    }

                    break;
                case SearchIndex.FieldKind.Attribute:
                    hashes = new ulong[values];
                    for (var v = 0; v < values; v++)
                    {
                        hashes[v] = reader.ReadFixed64();
                    }

                    break;
                case SearchIndex.FieldKind.Error when values == 1:
                    break;
                default:
                    throw new InvalidDataException($"{SearchIndex.FileName}: field {i} has kind {(int)kind} and {values} values.");
            }

            var bits = SearchIndex.Bits(values);
            var same = reader.ReadVarint();
            byte[] packed;
            if (same > 0)
            {
                packed = same <= (ulong)fields.Count && fields[(int)same - 1].Bits == bits
                    ? fields[(int)same - 1].Packed
                    : throw new InvalidDataException($"{SearchIndex.FileName}: field {i} shares the ordinals of field {same - 1}, which cannot hold them.");
            }
            else
            {
                packed = reader.ReadBytesSpan().ToArray();
                if (packed.Length != ((long)rows * bits + 7) / 8)
                {
                    throw new InvalidDataException($"{SearchIndex.FileName}: field {i} holds {packed.Length} bytes of ordinals for {rows} rows of {bits} bits.");
                }
            }

            fields.Add(new Field(kind, key, names, hashes, bits, packed));
        }

        var unindexed = new HashSet<string>(StringComparer.Ordinal);
        var unindexedCount = reader.ReadCount();
        for (var i = 0; i < unindexedCount; i++)
        {
            unindexed.Add(reader.ReadString());
        }

        if (!reader.End || !fields.Any(f => f.Kind == SearchIndex.FieldKind.Error))
        {
            throw new InvalidDataException($"{SearchIndex.FileName}: a section does not end where its fields do, or has no error field.");
        }

        return new RowGroupIndex(rows, fields, unindexed);
    }

    private sealed record Field(SearchIndex.FieldKind Kind, string? Key, string[]? Names, ulong[]? Hashes, int Bits, byte[] Packed);
}
