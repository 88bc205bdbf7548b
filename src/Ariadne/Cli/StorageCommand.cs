using Ariadne.Pipeline;
using Ariadne.Pipeline.Log;
using System.CommandLine;
using System.Globalization;
using Ariadne.Configuration;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Embedded.Blocks;
using Spectre.Console;

namespace Ariadne.Cli;

/// <summary>`ariadne storage list|verify|compact|retention`: maintenance of an embedded data directory.</summary>
internal static class StorageCommand
{
    public static Command Create()
    {
        var command = new Command("storage", "Inspect and maintain an embedded-storage data directory.");
        command.Subcommands.Add(Sub("list", "List blocks with their time range, spans, traces and size, and the bytes per span of each block file and Parquet column.", List));
        command.Subcommands.Add(Sub("verify", "Check every block's checksums and read every row; damaged blocks are named (exit code 1).", Verify));
        command.Subcommands.Add(Sub("compact", "Merge small blocks now (the server must be stopped).", Compact));
        command.Subcommands.Add(ClickHouseStorageCommand.Create());
        command.Subcommands.Add(Sub("retention", "Apply retention now: delete expired blocks, roll up and expire aggregates (the server must be stopped).", Retention));
        return command;
    }

    private static Command Sub(string name, string description, Func<string, EmbeddedStorageOptions, CancellationToken, Task<int>> run)
    {
        var data = new Option<string?>("--data") { Description = "Data directory [default: ./ariadne-data, or DataDirectory from --config]." };
        var config = new Option<string?>("--config", "-c") { Description = "JSON config file, for the Embedded:* settings (retention periods...)." };
        var command = new Command(name, description);
        command.Options.Add(data);
        command.Options.Add(config);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            if (parse.GetValue(data) is { } dir)
            {
                overrides["DataDirectory"] = dir;
            }

            if (await CliConfiguration.TryLoadAsync(parse.GetValue(config), overrides) is not { } options)
            {
                return CliConfiguration.InvalidConfigurationExitCode;
            }

            if (!File.Exists(Path.Combine(options.DataDirectory, DataDirectoryFormat.FileName)))
            {
                await Console.Error.WriteLineAsync($"ariadne: '{Path.GetFullPath(options.DataDirectory)}' is not an Ariadne data directory (no {DataDirectoryFormat.FileName} file); pass --data.");
                return 1;
            }

            try
            {
                return await run(options.DataDirectory, options.Embedded.WithTenantRetention(options.Tenancy), cancellationToken);
            }
            catch (StorageFormatException e)
            {
                await Console.Error.WriteLineAsync($"ariadne: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Task<int> List(string directory, EmbeddedStorageOptions options, CancellationToken cancellationToken)
    {
        var table = new Table().AddColumns("tenant", "block", "level", "first span (UTC)", "last span (UTC)", "spans", "traces", "bytes", "B/span");
        long spans = 0, bytes = 0;
        foreach (var meta in ReadMetas(directory).OrderBy(m => m.Tenant, StringComparer.Ordinal).ThenBy(m => m.MinStartUnixNano))
        {
            var size = meta.FileBytes;
            spans += meta.SpanCount;
            bytes += size;
            table.AddRow(Markup.Escape(meta.Tenant), meta.Id, meta.CompactionLevel.ToString(CultureInfo.InvariantCulture),
                Time(meta.MinStartUnixNano), Time(meta.MaxStartUnixNano), meta.SpanCount.ToString("N0", CultureInfo.InvariantCulture),
                meta.TraceCount.ToString("N0", CultureInfo.InvariantCulture), size.ToString("N0", CultureInfo.InvariantCulture),
                meta.SpanCount == 0 ? "-" : ((double)size / meta.SpanCount).ToString("F1", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        AnsiConsole.WriteLine($"{table.Rows.Count} blocks, {spans:N0} spans, {bytes:N0} bytes.");
        if (spans > 0)
        {
            AnsiConsole.WriteLine("Bytes per span by block file and by Parquet column (compressed):");
            foreach (var line in BlockBytes.Lines(Path.Combine(directory, "blocks"), spans))
            {
                AnsiConsole.WriteLine("  " + line);
            }
        }
        var log = Path.Combine(directory, IngestPipeline.LogDirectoryName);
        var segments = SegmentLog.ListSegments(log).Count;
        if (segments > 0)
        {
            AnsiConsole.WriteLine($"{IngestPipeline.LogDirectoryName}/: {segments} segments, {SegmentLog.SegmentBytes(log):N0} bytes: the ingest log (spans not yet in blocks, or held for a tail-sampling decision; taken again at start).");
        }

        return Task.FromResult(0);
    }

    private static async Task<int> Verify(string directory, EmbeddedStorageOptions options, CancellationToken cancellationToken)
    {
        var blockDirectories = BlockDirectories(directory).ToList();
        var damaged = new List<string>();
        long spans = 0;
        await AnsiConsole.Progress().StartAsync(async progress =>
        {
            var task = progress.AddTask("verifying blocks", maxValue: Math.Max(1, blockDirectories.Count));
            foreach (var blockDirectory in blockDirectories)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await Task.Run(() =>
                {
                    try
                    {
                        var block = Block.Open(blockDirectory, verifyData: true);
                        try
                        {
                            var rows = block.ReadTraces().Sum(t => (long)t.Spans.Count);
                            if (rows != block.Meta.SpanCount)
                            {
                                throw new InvalidDataException($"{rows} rows, metadata says {block.Meta.SpanCount}");
                            }

                            spans += rows;
                        }
                        finally
                        {
                            block.Release();
                        }
                    }
                    catch (Exception e) when (e is InvalidDataException or IOException or BlockCorruptedException or System.Text.Json.JsonException)
                    {
                        damaged.Add($"{blockDirectory}: {e.Message}");
                    }
                }, cancellationToken);
                task.Increment(1);
            }

            task.Value = task.MaxValue;
        });

        foreach (var line in damaged)
        {
            AnsiConsole.MarkupLine($"[red]damaged[/] {Markup.Escape(line)}");
        }

        AnsiConsole.WriteLine($"{blockDirectories.Count - damaged.Count} of {blockDirectories.Count} blocks intact, {spans:N0} spans read.");
        return damaged.Count == 0 ? 0 : 1;
    }

    private static async Task<int> Compact(string directory, EmbeddedStorageOptions options, CancellationToken cancellationToken)
    {
        await using var store = OpenStore(directory, options);
        var before = store.ListBlocks().Count;
        var merges = 0;
        await AnsiConsole.Progress().StartAsync(async progress =>
        {
            var task = progress.AddTask("compacting", maxValue: 1);
            merges = await store.CompactAsync(new Progress<double>(p => task.Value = p), cancellationToken);
            task.Value = 1;
        });
        AnsiConsole.WriteLine($"{merges} merges: {before} blocks before, {store.ListBlocks().Count} after.");
        return 0;
    }

    private static async Task<int> Retention(string directory, EmbeddedStorageOptions options, CancellationToken cancellationToken)
    {
        await using var store = OpenStore(directory, options);
        var result = await store.ApplyRetentionAsync(cancellationToken);
        AnsiConsole.WriteLine(
            $"Deleted {result.BlocksDeleted} blocks ({result.SpansDeleted:N0} spans) older than {options.DetailedRetention.TotalDays:0.##} days; " +
            $"rolled up {result.AggregateDaysRolledUp} days of aggregates to hourly; deleted {result.AggregateDaysDeleted} days older than {options.AggregateRetention.TotalDays:0.##} days.");
        return 0;
    }

    private static EmbeddedSpanStore OpenStore(string directory, EmbeddedStorageOptions options)
    {
        using var loggerFactory = LoggerFactory.Create(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        return EmbeddedSpanStore.Open(directory, options, TimeProvider.System, loggerFactory.CreateLogger<EmbeddedSpanStore>());
    }

    private static IEnumerable<string> BlockDirectories(string directory)
    {
        var blocks = Path.Combine(directory, "blocks");
        return Directory.Exists(blocks)
            ? Directory.EnumerateDirectories(blocks).SelectMany(Directory.EnumerateDirectories)
                .Where(d => File.Exists(Path.Combine(d, BlockMeta.FileName))).Order(StringComparer.Ordinal)
            : [];
    }

    private static IEnumerable<BlockMeta> ReadMetas(string directory)
    {
        foreach (var blockDirectory in BlockDirectories(directory))
        {
            BlockMeta? meta = null;
            try
            {
                meta = BlockMeta.Read(Path.Combine(blockDirectory, BlockMeta.FileName));
            }
            catch (System.Text.Json.JsonException e)
            {
                AnsiConsole.MarkupLine($"[red]unreadable[/] {Markup.Escape(blockDirectory)}: {Markup.Escape(e.Message)}");
            }

            if (meta is not null)
            {
                yield return meta;
            }
        }
    }

    private static string Time(long unixNanos) =>
        DateTimeOffset.UnixEpoch.AddTicks(unixNanos / 100).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
