using System.Diagnostics;
using Ariadne.Model;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Embedded.Blocks;

namespace Ariadne.Benchmarks;

/// <summary>
/// The block write path alone: 200k realistic spans (arrival-ordered start times over one hour, as a head cut
/// sees them) through BlockWriter at each given zstd level: wall and CPU time, and the compressed bytes per span
/// of every Parquet column, so a size change can be aimed at the columns that hold the bytes.
/// Usage: <c>block-write [zstd levels, default 3]</c>.
/// </summary>
internal static class ProbeBlockWrite
{
    public static void Run(string[] args)
    {
        var levels = args.Length > 0 ? args.Select(int.Parse).ToArray() : [3];
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var generator = new RealisticSpans(1, start, TimeSpan.FromHours(1));
        var traces = new List<(TraceId TraceId, List<Span> Spans)>();
        long spans = 0;
        while (spans < 200_000)
        {
            var trace = generator.NextTrace(spans / 200_000.0);
            traces.Add((trace[0].TraceId, trace));
            spans += trace.Count;
        }

        traces.Sort(BlockOrder.Compare); // as a head cut orders them
        foreach (var level in levels)
        {
            var directory = Directory.CreateTempSubdirectory("ariadne-block-write-").FullName;
            var watch = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            string blockDirectory;
            using (var writer = new BlockWriter(directory, "default", new EmbeddedStorageOptions { CompressionLevel = level }, TimeProvider.System, Ariadne.Storage.DurableFiles.System))
            {
                foreach (var (id, trace) in traces)
                {
                    writer.AddTrace(id, trace);
                }

                writer.Complete();
                blockDirectory = writer.Directory;
            }

            var files = Directory.GetFiles(blockDirectory).Sum(f => new FileInfo(f).Length);
            Console.WriteLine($"zstd {level}: {spans:N0} spans in {watch.ElapsedMilliseconds} ms wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:F0} ms CPU; " +
                $"block {files:N0} bytes = {(double)files / spans:F2} B/span");
            Console.WriteLine(string.Join(Environment.NewLine, BlockBytes.Lines(blockDirectory, spans).Select(line => "    " + line)));
            Directory.Delete(directory, recursive: true);
        }
    }
}
