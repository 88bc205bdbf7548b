using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Ariadne.Model;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// One bloom filter per row group over the (key, value text) pairs of every attribute its spans carry: span, scope,
/// resource, event and link attributes, the lists <see cref="SpanMatcher"/> compares a tag against. A search for a
/// tag value skips every row group whose filter says the pair is absent without reading a byte of it; rows are
/// sorted by trace id, so time and service statistics cannot skip row groups of a compacted block, but a rare value
/// (a user id, an order id, an error message) is in few of them.
/// </summary>
/// <remarks>
/// tags.bin: u32 row-group count, then per row group a u32 byte length and a <see cref="BloomFilter"/>; all
/// little-endian. The hash is XXH3-64 of the value's UTF-16 text seeded with XXH3-64 of the key's; the second hash of
/// double hashing is that hash with its halves swapped.
/// </remarks>
public sealed class TagFilters
{
    public const string FileName = "tags.bin";

    private readonly BloomFilter[] _rowGroups;

    private TagFilters(BloomFilter[] rowGroups) => _rowGroups = rowGroups;

    public static ulong Hash(string key, string value)
    {
        var seed = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(key.AsSpan()));
        return XxHash3.HashToUInt64(MemoryMarshal.AsBytes(value.AsSpan()), (long)seed);
    }

    public bool MayContain(int rowGroup, ulong hash) => _rowGroups[rowGroup].MayContain(hash, Second(hash));

    public static TagFilters FromBytes(ReadOnlySpan<byte> bytes, int rowGroups)
    {
        if (bytes.Length < 4 || BinaryPrimitives.ReadInt32LittleEndian(bytes) != rowGroups)
        {
            throw new InvalidDataException($"{FileName} does not hold one filter per row group ({rowGroups}).");
        }

        var filters = new BloomFilter[rowGroups];
        var offset = 4;
        for (var g = 0; g < rowGroups; g++)
        {
            if (offset + 4 > bytes.Length)
            {
                throw new InvalidDataException($"{FileName} ends inside row group {g}.");
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[offset..]);
            offset += 4;
            if (length < 0 || offset + length > bytes.Length)
            {
                throw new InvalidDataException($"{FileName} ends inside row group {g}.");
            }

            filters[g] = BloomFilter.FromBytes(bytes.Slice(offset, length));
            offset += length;
        }

        return new TagFilters(filters);
    }

    private static ulong Second(ulong hash) => (hash >> 32) | (hash << 32);

    /// <summary>Collects the pairs of one row group at a time while a block is written.</summary>
    public sealed class Builder(double falsePositiveRate)
    {
        private readonly HashSet<ulong> _hashes = [];
        private readonly HashSet<object> _shared = new(ReferenceEqualityComparer.Instance);
        private readonly List<byte[]> _rowGroups = [];

        public void Add(Span span)
        {
            AddAll(span.Attributes);
            // Resources and scopes are shared by many spans: their pairs are added once per row group.
            if (_shared.Add(span.Resource))
            {
                AddAll(span.Resource.Attributes);
            }

            if (_shared.Add(span.Scope))
            {
                AddAll(span.Scope.Attributes);
            }

            foreach (var e in span.Events)
            {
                AddAll(e.Attributes);
            }

            foreach (var link in span.Links)
            {
                AddAll(link.Attributes);
            }
        }

        public void EndRowGroup()
        {
            var filter = BloomFilter.Create(_hashes.Count, falsePositiveRate);
            foreach (var hash in _hashes)
            {
                filter.Add(hash, Second(hash));
            }

            _rowGroups.Add(filter.ToBytes());
            _hashes.Clear();
            _shared.Clear();
        }

        public byte[] ToBytes()
        {
            var bytes = new byte[4 + _rowGroups.Sum(r => 4 + r.Length)];
            BinaryPrimitives.WriteInt32LittleEndian(bytes, _rowGroups.Count);
            var offset = 4;
            foreach (var filter in _rowGroups)
            {
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), filter.Length);
                filter.CopyTo(bytes, offset + 4);
                offset += 4 + filter.Length;
            }

            return bytes;
        }

        private void AddAll(KeyValue[] attributes)
        {
            foreach (var kv in attributes)
            {
                _hashes.Add(Hash(kv.Key, kv.Value.ToString()));
            }
        }
    }
}
