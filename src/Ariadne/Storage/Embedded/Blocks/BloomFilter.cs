using System.Buffers.Binary;
using Ariadne.Model;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// Trace-id bloom filter of a block. Trace ids are already uniformly random, so the two halves of the id serve as
/// the two hashes of double hashing (Kirsch–Mitzenmacher) and no hashing is needed.
/// </summary>
public sealed class BloomFilter
{
    private readonly ulong[] _bits;
    private readonly int _hashes;

    private BloomFilter(ulong[] bits, int hashes)
    {
        _bits = bits;
        _hashes = hashes;
    }

    public static BloomFilter Create(long expectedItems, double falsePositiveRate)
    {
        var n = Math.Max(1, expectedItems);
        var bitCount = (long)Math.Ceiling(-n * Math.Log(falsePositiveRate) / (Math.Log(2) * Math.Log(2)));
        var words = (int)Math.Max(1, (bitCount + 63) / 64);
        var hashes = Math.Clamp((int)Math.Round((double)words * 64 / n * Math.Log(2)), 1, 16);
        return new BloomFilter(new ulong[words], hashes);
    }

    public void Add(TraceId id) => Add(id.Low, id.High);

    public bool MayContain(TraceId id) => MayContain(id.Low, id.High);

    /// <summary>Adds an item by its two hashes (double hashing: bit i is h1 + i·h2).</summary>
    public void Add(ulong h1, ulong h2)
    {
        var bitCount = (ulong)_bits.Length * 64;
        h2 |= 1;
        for (var i = 0; i < _hashes; i++)
        {
            var bit = (h1 + (ulong)i * h2) % bitCount;
            _bits[bit >> 6] |= 1UL << (int)(bit & 63);
        }
    }

    public bool MayContain(ulong h1, ulong h2)
    {
        var bitCount = (ulong)_bits.Length * 64;
        h2 |= 1;
        for (var i = 0; i < _hashes; i++)
        {
            var bit = (h1 + (ulong)i * h2) % bitCount;
            if ((_bits[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>u32 hash count, u32 word count, then the words, all little-endian.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[8 + _bits.Length * 8];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, _hashes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), _bits.Length);
        for (var i = 0; i < _bits.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8 + i * 8), _bits[i]);
        }

        return bytes;
    }

    public static BloomFilter FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8)
        {
            throw new InvalidDataException("Bloom filter shorter than its header.");
        }

        var hashes = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        var words = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        if (hashes is < 1 or > 16 || words < 1 || bytes.Length != 8 + (long)words * 8)
        {
            throw new InvalidDataException("Bloom filter header does not match its size.");
        }

        var bits = new ulong[words];
        for (var i = 0; i < words; i++)
        {
            bits[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(8 + i * 8)..]);
        }

        return new BloomFilter(bits, hashes);
    }
}
