using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// Interns the strings of one request by their UTF-8 bytes, so the attribute keys, service and operation names and
/// common values repeated across its spans are decoded and allocated once. A string of up to 16 bytes is known by
/// its length and two 8-byte words, so a lookup compares three numbers; longer ones are compared in full. Bounded
/// in entries, bytes and chain length: past a bound a string is simply allocated, so hostile input (millions of
/// distinct keys, colliding hashes) costs no more than not interning.
/// </summary>
internal sealed class Utf8StringTable
{
    private const int MaxEntries = 2048;
    private const int MaxArenaBytes = 64 * 1024;
    private const int MaxChainLength = 8;
    private const int BucketCount = 4096;
    private const int ExactLength = 16;

    private readonly int[] _buckets = new int[BucketCount];
    private readonly Entry[] _entries = new Entry[MaxEntries];
    private readonly byte[] _arena = new byte[MaxArenaBytes];
    private int _count;
    private int _arenaUsed;

    public string Get(ReadOnlySpan<byte> utf8)
    {
        var length = utf8.Length;
        ulong head;
        ulong tail;
        ulong middle = 0;
        if (length >= sizeof(ulong))
        {
            head = BinaryPrimitives.ReadUInt64LittleEndian(utf8);
            tail = BinaryPrimitives.ReadUInt64LittleEndian(utf8[^8..]);
            if (length > ExactLength)
            {
                middle = BinaryPrimitives.ReadUInt64LittleEndian(utf8[((length / 2) - 4)..]);
            }
        }
        else if (length >= sizeof(uint))
        {
            head = BinaryPrimitives.ReadUInt32LittleEndian(utf8);
            tail = BinaryPrimitives.ReadUInt32LittleEndian(utf8[^4..]);
        }
        else if (length > 0)
        {
            head = utf8[0] | ((ulong)utf8[length / 2] << 8) | ((ulong)utf8[^1] << 16);
            tail = 0;
        }
        else
        {
            return string.Empty;
        }

        var bucketIndex = (int)Hash(head, tail ^ middle, length) & (BucketCount - 1);
        ref var bucket = ref _buckets[bucketIndex];
        var index = bucket;
        for (var chain = 0; index != 0; chain++)
        {
            ref var entry = ref _entries[index - 1];
            if (entry.Head == head && entry.Tail == tail && entry.Length == length
                && (length <= ExactLength || _arena.AsSpan(entry.Offset, length).SequenceEqual(utf8)))
            {
                return entry.Value;
            }

            if (chain == MaxChainLength)
            {
                return OtlpStrings.Decode(utf8);
            }

            index = entry.Next;
        }

        var value = OtlpStrings.Decode(utf8);
        if (_count < MaxEntries && (length <= ExactLength || length <= MaxArenaBytes - _arenaUsed))
        {
            var offset = 0;
            if (length > ExactLength)
            {
                offset = _arenaUsed;
                utf8.CopyTo(_arena.AsSpan(offset));
                _arenaUsed += length;
            }

            _entries[_count] = new Entry(head, tail, length, offset, bucket, bucketIndex, value);
            bucket = ++_count;
        }

        return value;
    }

    /// <summary>Forgets every string, keeping the tables for the next request; touches only the used buckets.</summary>
    public void Clear()
    {
        for (var i = 0; i < _count; i++)
        {
            _buckets[_entries[i].Bucket] = 0;
        }

        Array.Clear(_entries, 0, _count);
        _count = 0;
        _arenaUsed = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(ulong head, ulong tail, int length)
    {
        var hash = (head * 0x9E3779B97F4A7C15) ^ (tail * 0xC2B2AE3D27D4EB4F) ^ (uint)length;
        hash ^= hash >> 29;
        return (uint)(hash ^ (hash >> 32));
    }

    private readonly record struct Entry(ulong Head, ulong Tail, int Length, int Offset, int Next, int Bucket, string Value);
}
