using System.Diagnostics;
using Ariadne.Model;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Embedded.Blocks;

namespace Ariadne.Benchmarks;

/// <summary>
/// Trace-by-id lookups against the blocks of data directories the storage bench left (tenant "default"): the same
/// ~1 in 200 traces of each directory, looked up in every block of it, four rounds, and this process's CPU time per
/// lookup, which, unlike the storage bench's machine CPU, does not count other processes on a shared machine.
/// Usage: <c>trace-by-id DIR...</c>; directories written by different builds compare their block layouts.
/// </summary>
internal static class ProbeTraceById
{
    public static void Run(string[] args)
    {
        foreach (var directory in args)
        {
            var blocks = Directory.GetDirectories(Path.Combine(directory, "blocks", EmbeddedSpanStore.TenantDirectoryName("default")))
                .Select(d => Block.Open(d, verifyData: false)).ToList();
            var random = new Random(1);
            var ids = blocks.SelectMany(b => b.ReadTraces()).Where(_ => random.Next(200) == 0).Select(t => t.TraceId).ToList();
            for (var round = 0; round < 4; round++)
            {
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var spans = 0;
                foreach (var id in ids)
                {
                    foreach (var block in blocks)
                    {
                        spans += block.GetTrace(id).Count;
                    }
                }

                var perLookup = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / ids.Count;
                Console.WriteLine($"{directory}: {ids.Count:N0} lookups ({spans:N0} spans), {perLookup:F3} ms of process CPU each");
            }

            foreach (var block in blocks)
            {
                block.Release();
            }
        }
    }
}
