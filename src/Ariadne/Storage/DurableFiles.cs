using System.Runtime.InteropServices;

namespace Ariadne.Storage;

/// <summary>
/// The durable write steps of the ingest log, the embedded engine and the adaptive sampler, and only those: appending
/// to a log segment, fsync, creating, renaming and deleting segments, checkpoints, blocks, aggregate day files and the
/// adaptive sampling state. Reads and
/// everything else use <see cref="File"/> directly. Production uses <see cref="DurableFiles.System"/>; the
/// fault-injection tests (docs/RELIABILITY.md) put one in that fails the Nth step with EIO, ENOSPC or a torn write.
/// Every step throws <see cref="IOException"/> (or what the runtime throws for the errno) on failure.
/// </summary>
public interface IDurableFiles
{
    /// <summary>Opens a file for appending, creating it if needed (a log segment).</summary>
    FileStream OpenAppend(string path);

    /// <summary>Creates or truncates a file for writing (a temp file about to be renamed into place).</summary>
    FileStream Create(string path);

    /// <summary>write(2): the bytes go to the page cache, not yet to the disk.</summary>
    void Write(FileStream file, ReadOnlySpan<byte> bytes);

    /// <summary>fsync(2) of an open file.</summary>
    void Sync(FileStream file);

    /// <summary>ftruncate(2): cuts a torn record back off a segment.</summary>
    void Truncate(FileStream file, long length);

    /// <summary>fsync(2) of a file that another writer closed (ParquetSharp writes data.parquet).</summary>
    void SyncFile(string path);

    /// <summary>
    /// fsync(2) of a directory, so the names created, renamed or deleted in it survive a power loss. Without it a
    /// rename that replaced the checkpoint can come back as the old name after a crash of the machine.
    /// </summary>
    void SyncDirectory(string path);

    /// <summary>rename(2) of a file, replacing the target.</summary>
    void MoveFile(string source, string destination);

    /// <summary>rename(2) of a directory (a finished block into place, a damaged one into quarantine).</summary>
    void MoveDirectory(string source, string destination);

    /// <summary>unlink(2); a file already gone is not an error.</summary>
    void DeleteFile(string path);

    /// <summary>A directory and everything in it; one already gone is not an error.</summary>
    void DeleteDirectory(string path);
}

/// <summary>The real file system, and the compound steps built on <see cref="IDurableFiles"/>.</summary>
public sealed class DurableFiles : IDurableFiles
{
    public static readonly IDurableFiles System = new DurableFiles();

    private DurableFiles()
    {
    }

    /// <summary>Writes a whole file and fsyncs it (a temp file that a rename then puts in place).</summary>
    public static void WriteAndSync(IDurableFiles files, string path, ReadOnlySpan<byte> bytes)
    {
        using var file = files.Create(path);
        files.Write(file, bytes);
        files.Sync(file);
    }

    /// <summary>Replaces a small file atomically: temp file, fsync, rename over the old one, fsync of the directory.</summary>
    public static void Replace(IDurableFiles files, string path, ReadOnlySpan<byte> bytes)
    {
        var temp = path + ".tmp";
        WriteAndSync(files, temp, bytes);
        files.MoveFile(temp, path);
        files.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    public FileStream OpenAppend(string path) => new(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);

    public FileStream Create(string path) => new(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);

    public void Write(FileStream file, ReadOnlySpan<byte> bytes) => file.Write(bytes);

    public void Sync(FileStream file) => file.Flush(flushToDisk: true);

    public void Truncate(FileStream file, long length) => file.SetLength(length);

    public void SyncFile(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        file.Flush(flushToDisk: true);
    }

    public void SyncDirectory(string path)
    {
        // .NET opens no directory as a stream; on Linux and macOS open(2) read-only and fsync(2) the descriptor.
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = NativeMethods.Open(path, 0);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{path}' to fsync it (errno {Marshal.GetLastPInvokeError()}); check its permissions.");
        }

        try
        {
            if (NativeMethods.Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{path}' failed (errno {Marshal.GetLastPInvokeError()}); check the disk.");
            }
        }
        finally
        {
            _ = NativeMethods.Close(fd);
        }
    }

    public void MoveFile(string source, string destination) => File.Move(source, destination, overwrite: true);

    public void MoveDirectory(string source, string destination) => Directory.Move(source, destination);

    public void DeleteFile(string path) => File.Delete(path);

    public void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Fsync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Close(int fd);
    }
}
