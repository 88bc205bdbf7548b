using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Ariadne.Model;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// <c>tags.bin</c>: per row group, a bloom filter over the (key, value text) pairs of every attribute its spans carry:
/// span, scope, resource, event and link attributes, the lists <see cref="SpanMatcher"/> compares a tag against. A
/// search for a tag value skips every row group whose filter says the pair is absent without reading a byte of it.
/// </summary>
/// <remarks>
/// The hash is XXH3-64 of the value's UTF-16 text (<see cref="AnyValue.ToString"/>) seeded with XXH3-64 of the key's;
/// the second hash of double hashing is that hash with its halves swapped. The file is a <see cref="RowGroupFilters"/>.
/// </remarks>
public static class TagFilters
{
    public const string FileName = "tags.bin";

    public static ulong Hash(string key, string value) => HashValue(KeySeed(key), value);

    public static ulong Second(ulong hash) => (hash >> 32) | (hash << 32);

    private static long KeySeed(string key) => (long)XxHash3.HashToUInt64(MemoryMarshal.AsBytes(key.AsSpan()));

    private static ulong HashValue(long seed, ReadOnlySpan<char> text) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(text), seed);

    /// <summary>
    /// The hash of a value's text without allocating it for the scalar types (the text is formatted as
    /// <see cref="AnyValue.ToString"/> formats it, so the filters of blocks written either way agree).
    /// </summary>
    private static ulong HashValue(long seed, AnyValue value)
    {
        Span<char> text = stackalloc char[32];
        switch (value.Type)
        {
            case AnyValueType.String:
                return HashValue(seed, value.AsString);
            case AnyValueType.Bool:
                return HashValue(seed, value.AsBool ? "true" : "false");
            case AnyValueType.Int when value.AsInt.TryFormat(text, out var written, default, CultureInfo.InvariantCulture):
                return HashValue(seed, text[..written]);
            case AnyValueType.Double when value.AsDouble.TryFormat(text, out var written, "R", CultureInfo.InvariantCulture):
                return HashValue(seed, text[..written]);
            default:
                return HashValue(seed, value.ToString());
        }
    }

    /// <summary>Collects the pairs of one row group at a time while a block is written.</summary>
    public sealed class Builder(double falsePositiveRate)
    {
        private readonly RowGroupFilters.Builder _filters = new(falsePositiveRate);
        private readonly HashSet<object> _shared = new(ReferenceEqualityComparer.Instance);

        // Keys are interned by the decoders, so most lookups hit by reference; the seed is hashed once per key.
        private readonly Dictionary<string, long> _keySeeds = new(ReferenceEqualityComparer.Instance);

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
            _filters.EndRowGroup();
            _shared.Clear();
            if (_keySeeds.Count > 4096)
            {
                // Keys that were not interned would otherwise pile up for the whole block.
                _keySeeds.Clear();
            }
        }

        public byte[] ToBytes() => _filters.ToBytes();

        private void AddAll(KeyValue[] attributes)
        {
            foreach (var kv in attributes)
            {
                if (!_keySeeds.TryGetValue(kv.Key, out var seed))
                {
                    seed = KeySeed(kv.Key);
                    _keySeeds.Add(kv.Key, seed);
                }

                var hash = HashValue(seed, kv.Value);
                _filters.Add(hash, Second(hash));
            }
        }
    }
}
