using Ariadne.Model;

namespace Ariadne.Receivers.Jaeger;

/// <summary>
/// Tags gathered as the Collector's attribute map gathers them (<c>pcommon.Map.Put*</c>): a key set twice keeps the
/// last value, in the first one's place; the translator then reads and removes its special keys. Keys are indexed in a
/// dictionary, so a span with thousands of tags costs no quadratic search. Reused across spans.
/// </summary>
internal sealed class JaegerAttributes
{
    private readonly List<KeyValue> _items = [];
    private readonly List<bool> _removed = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    public int Count => _index.Count;

    public void Clear()
    {
        _items.Clear();
        _removed.Clear();
        _index.Clear();
    }

    public void Put(KeyValue attribute)
    {
        if (_index.TryGetValue(attribute.Key, out var at))
        {
            _items[at] = attribute;
            return;
        }

        _index.Add(attribute.Key, _items.Count);
        _items.Add(attribute);
        _removed.Add(false);
    }

    public void PutAll(List<KeyValue> tags, int start, int count)
    {
        for (var i = start; i < start + count; i++)
        {
            Put(tags[i]);
        }
    }

    public bool TryGet(string key, out AnyValue value)
    {
        if (_index.TryGetValue(key, out var at))
        {
            value = _items[at].Value;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>The value of <paramref name="key"/>, removed; as pcommon's <c>Str()</c>, a value of another type reads as "".</summary>
    public bool TryTakeString(string key, out string value)
    {
        if (!TryGet(key, out var any))
        {
            value = string.Empty;
            return false;
        }

        Remove(key);
        value = any.Type == AnyValueType.String ? any.AsString : string.Empty;
        return true;
    }

    public void Remove(string key)
    {
        if (_index.Remove(key, out var at))
        {
            _removed[at] = true;
        }
    }

    public KeyValue[] ToArray()
    {
        if (_index.Count == 0)
        {
            return [];
        }

        var result = new KeyValue[_index.Count];
        var next = 0;
        for (var i = 0; i < _items.Count; i++)
        {
            if (!_removed[i])
            {
                result[next++] = _items[i];
            }
        }

        return result;
    }
}
