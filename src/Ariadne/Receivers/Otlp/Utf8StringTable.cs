using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// Interns the strings of one request by their UTF-8 bytes, so the attribute keys, service and operation names and
/// common values repeated across its spans are decoded and allocated once. Bounded in entries, bytes and chain
/// length: past a bound a string is simply allocated, so hostile input (millions of distinct keys, colliding
/// hashes) costs no more than not interning.
/// </summary>
internal sealed class Utf8StringTable
{
    private const int MaxEntries = 2048;
    private const int MaxArenaBytes = 64 * 1024;
    private const int MaxChainLength = 8;
    private const int BucketCount = 4096;

    private readonly int[] _buckets = new int[BucketCount];
    private readonly Entry[] _entries = new Entry[MaxEntries];
    private readonly byte[] _arena = new byte[MaxArenaBytes];
    private int _count;
    private int _arenaUsed;

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return string.Empty;
        }

        var hash = Hash(utf8);
        ref var bucket = ref _buckets[hash & (BucketCount - 1)];
        var index = bucket;
        for (var chain = 0; index != 0; chain++)
        {
            ref var entry = ref _entries[index - 1];
            if (entry.Hash == hash && _arena.AsSpan(entry.Offset, entry.Length).SequenceEqual(utf8))
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
        if (_count < MaxEntries && utf8.Length <= MaxArenaBytes - _arenaUsed)
        {
            utf8.CopyTo(_arena.AsSpan(_arenaUsed));
            _entries[_count] = new Entry(hash, bucket, _arenaUsed, utf8.Length, value);
            _arenaUsed += utf8.Length;
            bucket = ++_count;
        }

        return value;
    }

    /// <summary>Forgets every string, keeping the tables for the next request.</summary>
    public void Clear()
    {
        if (_count == 0)
        {
            return;
        }

        Array.Clear(_buckets);
        Array.Clear(_entries, 0, _count);
        _count = 0;
        _arenaUsed = 0;
    }

    // A multiply-rotate hash over 8-byte words: fast for the short keys and names that dominate, and good enough
    // here because the chain bound, not the hash, is what protects against collisions.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(ReadOnlySpan<byte> bytes)
    {
        const ulong Prime = 0x9E3779B97F4A7C15;
        var hash = (ulong)bytes.Length * Prime;
        while (bytes.Length >= sizeof(ulong))
        {
            hash = BitOperations.RotateLeft((hash ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes)) * Prime, 29);
            bytes = bytes[sizeof(ulong)..];
        }

        if (!bytes.IsEmpty)
        {
            ulong tail = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                tail |= (ulong)bytes[i] << (i * 8);
            }

            hash = BitOperations.RotateLeft((hash ^ tail) * Prime, 29);
        }

        hash ^= hash >> 32;
        return (uint)hash;
    }

    private readonly record struct Entry(uint Hash, int Next, int Offset, int Length, string Value);
}
