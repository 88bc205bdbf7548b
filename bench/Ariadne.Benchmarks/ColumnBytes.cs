using Ariadne.Storage.Embedded.Blocks;
using ParquetSharp;

namespace Ariadne.Benchmarks;

/// <summary>Where a data directory's or a block's bytes are: per Parquet column (compressed) and per block file, in bytes per span.</summary>
internal static class ColumnBytes
{
    /// <summary>Prints the bytes per span of every block under <paramref name="directory"/> (searched recursively for data.parquet).</summary>
    public static void Print(string directory, long spans)
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

        foreach (var (file, bytes) in files.OrderByDescending(f => f.Value))
        {
            Console.WriteLine($"    file   {file,-22} {(double)bytes / spans,6:F2} B/span");
        }

        foreach (var (column, bytes) in columns.OrderByDescending(c => c.Value))
        {
            Console.WriteLine($"    column {column,-22} {(double)bytes / spans,6:F2} B/span");
        }
    }
}
