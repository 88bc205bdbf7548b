using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
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
            case AnyValueType.Array or AnyValueType.KeyValueList:
                return HashComposite(seed, value);
            default:
                return HashValue(seed, value.ToString());
        }
    }

    // The JSON text of an array or map (AnyValueJson, as AnyValue.ToString writes it), in buffers kept per thread:
    // an HTTP header attribute is an array on every span, and a string and a JSON writer per span added up.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_json;

    [ThreadStatic]
    private static Utf8JsonWriter? t_jsonWriter;

    private static ulong HashComposite(long seed, AnyValue value)
    {
        var bytes = t_json ??= new ArrayBufferWriter<byte>(256);
        bytes.ResetWrittenCount();
        var writer = t_jsonWriter ??= new Utf8JsonWriter(bytes);
        writer.Reset(bytes);
        AnyValueJson.Write(writer, value);
        writer.Flush();
        var chars = ArrayPool<char>.Shared.Rent(Encoding.UTF8.GetMaxCharCount(bytes.WrittenCount));
        try
        {
            return HashValue(seed, chars.AsSpan(0, Encoding.UTF8.GetChars(bytes.WrittenSpan, chars)));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>Collects the pairs of one row group at a time while a block is written, and feeds each span's pairs to the search index.</summary>
    public sealed class Builder(double falsePositiveRate)
    {
        private readonly RowGroupFilters.Builder _filters = new(falsePositiveRate);

        // Keys are interned by the decoders, so most lookups hit by reference; the seed is hashed once per key.
        private readonly Dictionary<string, KeyState> _keys = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<string, KeyState> _keysByText = new(StringComparer.Ordinal);

        // Resources and scopes are shared by many spans: their pairs are hashed and added to the filter once per row
        // group, and handed to the index for every span from here.
        private readonly Dictionary<object, (SearchIndex.Builder.AttributeField Field, ulong Hash)[]> _shared = new(ReferenceEqualityComparer.Instance);
        private (Resource? Resource, (SearchIndex.Builder.AttributeField Field, ulong Hash)[] Pairs) _lastResource = (null, []);
        private (InstrumentationScope? Scope, (SearchIndex.Builder.AttributeField Field, ulong Hash)[] Pairs) _lastScope = (null, []);
        private int _rowGroup;

        /// <summary>Adds a span's pairs to the row group's filter, and the span as the next row of <paramref name="index"/>.</summary>
        public void Add(Span span, SearchIndex.Builder index)
        {
            index.BeginRow(span);
            AddAll(span.Attributes, index);
            // The spans of a batch share their resource and scope: most spans skip the lookup.
            if (!ReferenceEquals(span.Resource, _lastResource.Resource))
            {
                _lastResource = (span.Resource, Shared(span.Resource, span.Resource.Attributes, index));
            }

            if (!ReferenceEquals(span.Scope, _lastScope.Scope))
            {
                _lastScope = (span.Scope, Shared(span.Scope, span.Scope.Attributes, index));
            }

            foreach (var (field, hash) in _lastResource.Pairs)
            {
                index.AddAttribute(field, hash);
            }

            foreach (var (field, hash) in _lastScope.Pairs)
            {
                index.AddAttribute(field, hash);
            }

            foreach (var e in span.Events)
            {
                AddAll(e.Attributes, index);
            }

            foreach (var link in span.Links)
            {
                AddAll(link.Attributes, index);
            }
        }

        public void EndRowGroup()
        {
            _filters.EndRowGroup();
            _shared.Clear();
            _lastResource = (null, []);
            _lastScope = (null, []);
            _rowGroup++;
            if (_keys.Count > 4096)
            {
                // Key instances would otherwise pile up for the whole block, and so would the texts of a span shape
                // with ever new keys.
                _keys.Clear();
                if (_keysByText.Count > 4096)
                {
                    _keysByText.Clear();
                }
            }
        }

        public byte[] ToBytes() => _filters.ToBytes();

        private void AddAll(KeyValue[] attributes, SearchIndex.Builder index)
        {
            foreach (var kv in attributes)
            {
                var key = Add(kv);
                index.AddAttribute(key.Field(kv.Key, index, _rowGroup), key.LastHash);
            }
        }

        /// <summary>The pairs of a resource's or scope's attributes, hashed and added to the filter the first time in the row group.</summary>
        private (SearchIndex.Builder.AttributeField Field, ulong Hash)[] Shared(object owner, KeyValue[] attributes, SearchIndex.Builder index)
        {
            if (!_shared.TryGetValue(owner, out var pairs))
            {
                pairs = new (SearchIndex.Builder.AttributeField, ulong)[attributes.Length];
                for (var i = 0; i < attributes.Length; i++)
                {
                    var key = Add(attributes[i]);
                    pairs[i] = (key.Field(attributes[i].Key, index, _rowGroup), key.LastHash);
                }

                _shared.Add(owner, pairs);
            }

            return pairs;
        }

        /// <summary>Adds a pair to the row group's filter; returns its key's state, with the pair's hash as <see cref="KeyState.LastHash"/>.</summary>
        private KeyState Add(KeyValue kv)
        {
            if (!_keys.TryGetValue(kv.Key, out var key))
            {
                // Another instance of a key seen before (each request's decoder interns its own): the same state.
                if (!_keysByText.TryGetValue(kv.Key, out key))
                {
                    key = new KeyState(KeySeed(kv.Key));
                    _keysByText.Add(kv.Key, key);
                }

                _keys.Add(kv.Key, key);
            }

            if (key.RowGroup == _rowGroup && key.LastValue.IsSameInstance(kv.Value))
            {
                // The pair this key had last in this row group (an interned value, an equal number): already added.
                return key;
            }

            key.RowGroup = _rowGroup;
            key.LastValue = kv.Value;
            key.LastHash = HashValue(key.Seed, kv.Value);
            _filters.Add(key.LastHash, Second(key.LastHash));
            return key;
        }

        private sealed class KeyState(long seed)
        {
            private SearchIndex.Builder.AttributeField? _field;
            private int _fieldRowGroup = -1;

            public long Seed { get; } = seed;

            public int RowGroup { get; set; } = -1;

            public AnyValue LastValue { get; set; }

            public ulong LastHash { get; set; }

            /// <summary>The key's index field in row group <paramref name="rowGroup"/>, looked up by name once per row group.</summary>
            public SearchIndex.Builder.AttributeField Field(string key, SearchIndex.Builder index, int rowGroup)
            {
                if (_fieldRowGroup != rowGroup || _field is null)
                {
                    _field = index.Field(key);
                    _fieldRowGroup = rowGroup;
                }

                return _field;
            }
        }
    }
}
