using Ariadne.Storage;

namespace Ariadne.Tests.Reliability;

/// <summary>The kinds of durable step <see cref="FaultyFiles"/> counts and fails.</summary>
public enum FileStep
{
    /// <summary>Creating a file, write(2), ftruncate(2).</summary>
    Write,

    /// <summary>fsync(2) of a file or a directory.</summary>
    Fsync,

    /// <summary>rename(2) of a file or a directory.</summary>
    Rename,

    /// <summary>Deleting a file or a directory.</summary>
    Delete,
}

public enum FileFault
{
    /// <summary>EIO: the step does nothing and fails.</summary>
    Eio,

    /// <summary>ENOSPC: the step does nothing and fails.</summary>
    Enospc,

    /// <summary>Only the first half of the bytes reach the file, then EIO (a write only).</summary>
    TornWrite,
}

/// <summary>One injection point: the <see cref="Nth"/> step of kind <see cref="Step"/> fails with <see cref="Fault"/>.</summary>
public sealed record FaultPlan(FileStep Step, int Nth, FileFault Fault)
{
    public override string ToString() => $"{Fault} at {Step} #{Nth}";
}

/// <summary>
/// The real file system, except that the step named by the plan fails, once: the disk hiccups and later steps
/// succeed again, as SQLite's test VFS fails the Nth I/O call. Without a plan it only counts the steps, which is how a
/// test learns how many injection points a scenario has.
/// </summary>
internal sealed class FaultyFiles(FaultPlan? plan = null) : IDurableFiles
{
    private readonly IDurableFiles _real = DurableFiles.System;
    private readonly int[] _counts = new int[4];
    private readonly List<string> _steps = [];
    private readonly List<string>[] _names = [[], [], [], []];

    /// <summary>The failed step (kind, number and path), once it has happened.</summary>
    public string? Injected { get; private set; }

    public int Count(FileStep step)
    {
        lock (_steps)
        {
            return _counts[(int)step];
        }
    }

    /// <summary>What each step of one kind was (create, write, truncate, fsync-dir...), in order.</summary>
    public IReadOnlyList<string> Names(FileStep step)
    {
        lock (_steps)
        {
            return [.. _names[(int)step]];
        }
    }

    /// <summary>Every step so far, in order, for a failure message.</summary>
    public IReadOnlyList<string> Steps
    {
        get
        {
            lock (_steps)
            {
                return [.. _steps];
            }
        }
    }

    public FileStream OpenAppend(string path)
    {
        Step(FileStep.Write, "open-append", path);
        return _real.OpenAppend(path);
    }

    public FileStream Create(string path)
    {
        Step(FileStep.Write, "create", path);
        return _real.Create(path);
    }

    public void Write(FileStream file, ReadOnlySpan<byte> bytes)
    {
        if (Step(FileStep.Write, "write", file.Name, tearable: true))
        {
            _real.Write(file, bytes[..(bytes.Length / 2)]);
            throw Error(FileFault.Eio, file.Name);
        }

        _real.Write(file, bytes);
    }

    public void Sync(FileStream file)
    {
        Step(FileStep.Fsync, "fsync", file.Name);
        _real.Sync(file);
    }

    public void Truncate(FileStream file, long length)
    {
        Step(FileStep.Write, "truncate", file.Name);
        _real.Truncate(file, length);
    }

    public void SyncFile(string path)
    {
        Step(FileStep.Fsync, "fsync", path);
        _real.SyncFile(path);
    }

    public void SyncDirectory(string path)
    {
        Step(FileStep.Fsync, "fsync-dir", path);
        _real.SyncDirectory(path);
    }

    public void MoveFile(string source, string destination)
    {
        Step(FileStep.Rename, "rename", source);
        _real.MoveFile(source, destination);
    }

    public void MoveDirectory(string source, string destination)
    {
        Step(FileStep.Rename, "rename-dir", source);
        _real.MoveDirectory(source, destination);
    }

    public void DeleteFile(string path)
    {
        Step(FileStep.Delete, "delete", path);
        _real.DeleteFile(path);
    }

    public void DeleteDirectory(string path)
    {
        Step(FileStep.Delete, "delete-dir", path);
        _real.DeleteDirectory(path);
    }

    /// <summary>Counts a step; throws the planned fault when it is this one, or returns true for a torn write that the caller performs.</summary>
    private bool Step(FileStep step, string what, string path, bool tearable = false)
    {
        int number;
        lock (_steps)
        {
            number = ++_counts[(int)step];
            _steps.Add($"{what} {Path.GetFileName(path)}");
            _names[(int)step].Add(what);
        }

        if (plan is null || plan.Step != step || plan.Nth != number)
        {
            return false;
        }

        Injected = $"{plan} ({what} {path})";
        if (plan.Fault == FileFault.TornWrite && tearable)
        {
            return true;
        }

        throw Error(plan.Fault, path);
    }

    private static IOException Error(FileFault fault, string path) => fault == FileFault.Enospc
        ? new IOException($"No space left on device : '{path}' (injected)", 28)
        : new IOException($"Input/output error : '{path}' (injected)", 5);
}
