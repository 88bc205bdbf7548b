using ParquetSharp;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// Where the bytes of a data directory's blocks (or of one block) are: per block file and per Parquet column
/// (compressed, from the files' footers), largest first. `ariadne storage list` and the storage benches show them.
/// </summary>
public static class BlockBytes
{
    /// <summary>Sums every block under <paramref name="directory"/> (searched recursively for data.parquet).</summary>
    public static (List<(string File, long Bytes)> Files, List<(string Column, long Bytes)> Columns) Measure(string directory)
    {
        var columns = new Dictionary<string, long>(StringComparer.Ordinal);
        var files = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var data in Directory.EnumerateFiles(directory, BlockMeta.DataFileName, SearchOption.AllDirectories))
        {
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(data)!))
            {
                files[Path.GetFileName(file)] = files.GetValueOrDefault(Path.GetFileName(file)) + new FileInfo(file).Length;
            }

            using var reader = new ParquetFileReader(data);
            var metadata = reader.FileMetaData;
            for (var g = 0; g < metadata.NumRowGroups; g++)
            {
                using var group = reader.RowGroup(g);
                for (var c = 0; c < metadata.NumColumns; c++)
                {
                    var name = metadata.Schema.Column(c).Name;
                    columns[name] = columns.GetValueOrDefault(name) + group.MetaData.GetColumnChunkMetaData(c).TotalCompressedSize;
                }
            }
        }

        return (Largest(files), Largest(columns));
    }

    /// <summary>One line per file, then per column: name and bytes per span.</summary>
    public static IEnumerable<string> Lines(string directory, long spans)
    {
        var (files, columns) = Measure(directory);
        foreach (var (file, bytes) in files)
        {
            yield return $"file   {file,-22} {(double)bytes / spans,6:F2} B/span";
        }

        foreach (var (column, bytes) in columns)
        {
            yield return $"column {column,-22} {(double)bytes / spans,6:F2} B/span";
        }
    }

    private static List<(string, long)> Largest(Dictionary<string, long> bytes) =>
        bytes.OrderByDescending(b => b.Value).Select(b => (b.Key, b.Value)).ToList();
}
