using System.Runtime.CompilerServices;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// A growable stack the decoders collect repeated fields on before copying them into an exact-size array. Nested
/// lists (a kvlist inside an attribute, an event's attributes inside a span's) push on top and pop their own
/// segment before the outer list continues, so one stack serves every level.
/// </summary>
internal sealed class ScratchStack<T>
{
    // A decoder is cached per thread; past this it drops a buffer a huge request grew, rather than keep it forever.
    private const int RetainedCapacity = 64 * 1024;

    private T[] _items = new T[64];
    private int _highWater;

    public int Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(in T item)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++] = item;
        if (Count > _highWater)
        {
            _highWater = Count;
        }
    }

    /// <summary>The items pushed since <paramref name="start"/>, as an exact-size array; removes them.</summary>
    public T[] Pop(int start)
    {
        if (Count == start)
        {
            return [];
        }

        var items = _items.AsSpan(start, Count - start).ToArray();
        Count = start;
        return items;
    }

    /// <summary>Removes the items pushed since <paramref name="start"/> without copying them.</summary>
    public void Truncate(int start) => Count = start;

    public void Clear()
    {
        if (_items.Length > RetainedCapacity)
        {
            _items = new T[64];
        }
        else if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(_items, 0, _highWater);
        }

        Count = 0;
        _highWater = 0;
    }
}
