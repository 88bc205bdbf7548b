using System.Buffers;
using System.Runtime.InteropServices;
using ParquetSharp;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// The values of one BYTE_ARRAY column of a row group, back to back in one array. Values are encoded straight into
/// it, and it is handed to Parquet as pointers into that one pinned array: no object and no pin per value.
/// </summary>
internal sealed class ByteColumnBuffer : IBufferWriter<byte>
{
    private byte[] _data = new byte[1 << 16];
    private readonly List<int> _ends = [];
    private readonly List<short> _definitionLevels = [];
    private int _position;

    /// <summary>The bytes its value array holds room for.</summary>
    public int Capacity => _data.Length;

    /// <summary>Rows, nulls included.</summary>
    public int Count => _definitionLevels.Count;

    public void Advance(int count) => _position += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _data.AsMemory(_position);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _data.AsSpan(_position);
    }

    /// <summary>Ends the value written since the last call.</summary>
    public void Commit()
    {
        _ends.Add(_position);
        _definitionLevels.Add(1);
    }

    public void AddNull() => _definitionLevels.Add(0);

    public void Add(ReadOnlySpan<byte> value)
    {
        value.CopyTo(GetSpan(value.Length));
        Advance(value.Length);
        Commit();
    }

    public void Add(string value)
    {
        var span = GetSpan(System.Text.Encoding.UTF8.GetMaxByteCount(value.Length));
        Advance(System.Text.Encoding.UTF8.GetBytes(value, span));
        Commit();
    }

    /// <summary>The index-th value, nulls not counted.</summary>
    public ReadOnlySpan<byte> this[int index] => _data.AsSpan(index == 0 ? 0 : _ends[index - 1], _ends[index] - (index == 0 ? 0 : _ends[index - 1]));

    /// <summary>Writes the rows as the next column.</summary>
    public void WriteTo(RowGroupWriter rowGroup)
    {
        using var writer = (ColumnWriter<ByteArray>)rowGroup.NextColumn();
        var count = _ends.Count;
        var values = ArrayPool<ByteArray>.Shared.Rent(Math.Max(count, 1));
        var handle = GCHandle.Alloc(_data, GCHandleType.Pinned);
        try
        {
            var data = handle.AddrOfPinnedObject();
            var start = 0;
            for (var i = 0; i < count; i++)
            {
                values[i] = new ByteArray(data + start, _ends[i] - start);
                start = _ends[i];
            }

            writer.WriteBatch(_definitionLevels.Count, CollectionsMarshal.AsSpan(_definitionLevels), default, values.AsSpan(0, count));
        }
        finally
        {
            handle.Free();
            ArrayPool<ByteArray>.Shared.Return(values);
        }
    }

    public void Clear()
    {
        _ends.Clear();
        _definitionLevels.Clear();
        _position = 0;
    }

    private void Ensure(int sizeHint)
    {
        var needed = _position + Math.Max(sizeHint, 16);
        if (needed > _data.Length)
        {
            Array.Resize(ref _data, Math.Max(needed, _data.Length * 2));
        }
    }
}
