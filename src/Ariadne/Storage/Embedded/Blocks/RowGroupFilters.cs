using System.Buffers.Binary;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// One bloom filter per row group, in one file: the attribute pairs of <c>tags.bin</c> (<see cref="TagFilters"/>) and
/// the trace ids of <c>traces.bin</c>. Items are added by their two hashes (<see cref="BloomFilter.Add(ulong, ulong)"/>).
/// </summary>
/// <remarks>The file: u32 row-group count, then per row group a u32 byte length and a <see cref="BloomFilter"/>; all little-endian.</remarks>
public sealed class RowGroupFilters
{
    private readonly BloomFilter[] _rowGroups;

    private RowGroupFilters(BloomFilter[] rowGroups) => _rowGroups = rowGroups;

    public bool MayContain(int rowGroup, ulong h1, ulong h2) => _rowGroups[rowGroup].MayContain(h1, h2);

    public static RowGroupFilters FromBytes(ReadOnlySpan<byte> bytes, int rowGroups, string fileName)
    {
        if (bytes.Length < 4 || BinaryPrimitives.ReadInt32LittleEndian(bytes) != rowGroups)
        {
            throw new InvalidDataException($"{fileName} does not hold one filter per row group ({rowGroups}).");
        }

        var filters = new BloomFilter[rowGroups];
        var offset = 4;
        for (var g = 0; g < rowGroups; g++)
        {
            if (offset + 4 > bytes.Length)
            {
                throw new InvalidDataException($"{fileName} ends inside row group {g}.");
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[offset..]);
            offset += 4;
            if (length < 0 || offset + length > bytes.Length)
            {
                throw new InvalidDataException($"{fileName} ends inside row group {g}.");
            }

            filters[g] = BloomFilter.FromBytes(bytes.Slice(offset, length));
            offset += length;
        }

        return new RowGroupFilters(filters);
    }

    /// <summary>Collects the items of one row group at a time while a block is written.</summary>
    public sealed class Builder(double falsePositiveRate)
    {
        private readonly HashSet<(ulong, ulong)> _items = [];
        private readonly List<byte[]> _rowGroups = [];

        public void Add(ulong h1, ulong h2) => _items.Add((h1, h2));

        public void EndRowGroup()
        {
            var filter = BloomFilter.Create(_items.Count, falsePositiveRate);
            foreach (var (h1, h2) in _items)
            {
                filter.Add(h1, h2);
            }

            _rowGroups.Add(filter.ToBytes());
            _items.Clear();
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
    }
}
