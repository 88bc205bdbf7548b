using System.Globalization;

namespace Ariadne.Storage.Embedded;

/// <summary>
/// The FORMAT file at the root of a data directory: "ariadne-embedded &lt;version&gt;". A directory written by another
/// version is refused at start-up rather than misread.
/// </summary>
public static class DataDirectoryFormat
{
    /// <summary>3: blocks of format version 3 (a search index, index.bin) may be present; 2: version 2 blocks (time-ordered rows, traces.bin).</summary>
    public const int CurrentVersion = 3;

    /// <summary>Directories of this version still open: their blocks are read as they are and compaction rewrites them.</summary>
    private const int OldestReadableVersion = 1;
    public const string FileName = "FORMAT";
    private const string Magic = "ariadne-embedded";

    /// <summary>Creates the directory and its FORMAT file, or checks an existing one.</summary>
    public static void EnsureCompatible(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            if (Directory.EnumerateFileSystemEntries(directory).Any())
            {
                throw new StorageFormatException(
                    $"Data directory '{Path.GetFullPath(directory)}' is not empty and has no {FileName} file, so it is not an Ariadne data directory. " +
                    "Point --data at an empty or Ariadne directory.");
            }

            Write(path);
            return;
        }

        var text = File.ReadAllText(path).Trim();
        var parts = text.Split(' ');
        if (parts.Length != 2 || parts[0] != Magic || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            throw new StorageFormatException(
                $"Data directory '{Path.GetFullPath(directory)}': {FileName} reads '{text}', not '{Magic} <version>'. The directory is damaged or not Ariadne's.");
        }

        if (version is >= OldestReadableVersion and < CurrentVersion)
        {
            // An older build would quarantine the blocks this one writes: it must refuse the directory instead.
            Write(path);
            return;
        }

        if (version != CurrentVersion)
        {
            throw new StorageFormatException(
                $"Data directory '{Path.GetFullPath(directory)}' holds embedded storage format version {version}; this build reads versions {OldestReadableVersion} to {CurrentVersion}. " +
                "Run the Ariadne release that wrote it, or move the directory away to start empty.");
        }
    }

    private static void Write(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, $"{Magic} {CurrentVersion}\n");
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>The data directory cannot be used (other format version, not Ariadne's, in use); the message says why and what to do.</summary>
public sealed class StorageFormatException(string message) : Exception(message);
