using System.Buffers;
using System.Runtime.InteropServices;
using Ariadne.Model;
using ParquetSharp;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>A value of a BYTE_ARRAY column, valid only during the call.</summary>
internal delegate void ByteValueVisitor(int index, ReadOnlySpan<byte> value);

/// <summary>
/// Reads chosen rows of a row group's columns. The physical reader hands out pointers into its decoded page, so rows
/// a search is not interested in cost no object, and the rows in between are skipped.
/// </summary>
internal static class ColumnRows
{
    private const int BatchRows = 1024;

    /// <summary>
    /// Calls <paramref name="visit"/> with the index into <paramref name="selected"/> (ascending rows) and the row's
    /// value; a null is visited as an empty value.
    /// </summary>
    public static void Visit(RowGroupReader group, int column, int rows, IReadOnlyList<int> selected, ByteValueVisitor visit)
    {
        if (selected.Count == 0)
        {
            return;
        }

        using var reader = (ColumnReader<ByteArray>)group.Column(column);
        var maxLevel = reader.ColumnDescriptor.MaxDefinitionLevel;
        var values = new ByteArray[Math.Min(rows, BatchRows)];
        var levels = new short[values.Length];
        var scratch = ArrayPool<byte>.Shared.Rent(256);
        try
        {
            int row = 0, next = 0;
            while (next < selected.Count)
            {
                var target = selected[next];
                if (target >= rows)
                {
                    throw new InvalidDataException($"row {target} of column {column} is past the row group's {rows} rows");
                }

                if (target > row)
                {
                    var skipped = reader.Skip(target - row);
                    row += skipped > 0 ? (int)skipped : throw new InvalidDataException($"column {column} ends at row {row} of {rows}");
                    continue;
                }

                var read = (int)reader.ReadBatch(Math.Min(values.Length, rows - row), levels, default, values, out var valuesRead);
                if (read <= 0 || (maxLevel == 0 && valuesRead != read))
                {
                    throw new InvalidDataException($"column {column} ends at row {row} of {rows}");
                }

                for (int i = 0, v = 0; i < read && next < selected.Count; i++)
                {
                    var isNull = maxLevel > 0 && levels[i] < maxLevel;
                    if (selected[next] == row + i)
                    {
                        var value = isNull ? default : values[v];
                        if (value.Length > scratch.Length)
                        {
                            ArrayPool<byte>.Shared.Return(scratch);
                            scratch = ArrayPool<byte>.Shared.Rent(value.Length);
                        }

                        if (value.Length > 0)
                        {
                            Marshal.Copy(value.Pointer, scratch, 0, value.Length);
                        }

                        visit(next, scratch.AsSpan(0, value.Length));
                        next++;
                    }

                    v += isNull ? 0 : 1;
                }

                row += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>The values of the selected rows, as arrays.</summary>
    public static byte[][] Read(RowGroupReader group, int column, int rows, IReadOnlyList<int> selected)
    {
        var result = new byte[selected.Count][];
        Visit(group, column, rows, selected, (k, value) => result[k] = value.ToArray());
        return result;
    }

    /// <summary>The selected rows whose value equals <paramref name="wanted"/>.</summary>
    public static List<int> KeepEqual(RowGroupReader group, int column, int rows, List<int> selected, byte[] wanted)
    {
        var kept = new List<int>();
        Visit(group, column, rows, selected, (k, value) =>
        {
            if (value.SequenceEqual(wanted))
            {
                kept.Add(selected[k]);
            }
        });
        return kept;
    }

    /// <summary>The rows (ascending) whose trace id is one of <paramref name="traceIds"/>; the whole column is scanned, in any row order.</summary>
    public static List<int> FindRows(RowGroupReader group, int column, int rows, IReadOnlySet<TraceId> traceIds)
    {
        var found = new List<int>();
        var id = new byte[TraceId.ByteLength];
        using var reader = (ColumnReader<ByteArray>)group.Column(column);
        var values = new ByteArray[Math.Min(rows, BatchRows)];
        var levels = new short[values.Length];
        var row = 0;
        while (row < rows)
        {
            var read = (int)reader.ReadBatch(Math.Min(values.Length, rows - row), levels, default, values, out var valuesRead);
            if (read <= 0 || valuesRead != read)
            {
                throw new InvalidDataException($"column {column} ends at row {row} of {rows} or holds a null");
            }

            for (var i = 0; i < read; i++)
            {
                if (values[i].Length != TraceId.ByteLength)
                {
                    throw new InvalidDataException($"trace id of row {row + i} is {values[i].Length} bytes");
                }

                Marshal.Copy(values[i].Pointer, id, 0, TraceId.ByteLength);
                if (traceIds.Contains(TraceId.FromBytes(id)))
                {
                    found.Add(row + i);
                }
            }

            row += read;
        }

        return found;
    }

    /// <summary>Rows <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> of a column, the rows before skipped.</summary>
    public static T[] ReadRange<T>(RowGroupReader group, int column, int first, int count)
    {
        using var reader = group.Column(column).LogicalReader<T>();
        if (first > 0 && reader.Skip(first) != first)
        {
            throw new InvalidDataException($"column {column} ends before row {first}");
        }

        var result = new T[count];
        var done = 0;
        while (done < count)
        {
            var read = reader.ReadBatch(result.AsSpan(done));
            done += read > 0 ? read : throw new InvalidDataException($"column {column} ends at row {first + done}");
        }

        return result;
    }
}
