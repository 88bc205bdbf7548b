using System.Diagnostics;
using Ariadne.Model;
using Ariadne.Storage.Embedded;
using Ariadne.Storage.Embedded.Blocks;

namespace Ariadne.Benchmarks;

/// <summary>The block write path alone: 200k realistic spans through BlockWriter, wall and CPU time.</summary>
internal static class ProbeBlockWrite
{
    public static void Run()
    {
        var gen = new RealisticSpans(1, DateTimeOffset.UtcNow.AddHours(-1), TimeSpan.FromHours(1));
        var traces = new SortedDictionary<TraceId, List<Span>>();
        long n = 0;
        while (n < 200_000) { var t = gen.NextTrace(); traces[t[0].TraceId] = t; n += t.Count; }
        var dir = Directory.CreateTempSubdirectory("probe-").FullName;
        var sw = Stopwatch.StartNew(); var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        using (var w = new BlockWriter(dir, "default", traces.Count, new EmbeddedStorageOptions(), TimeProvider.System))
        {
            foreach (var (id, spans) in traces) w.AddTrace(id, spans);
            Console.WriteLine($"add {sw.ElapsedMilliseconds} ms");
            w.Complete();
        }
        
        Console.WriteLine($"write {n} spans {sw.ElapsedMilliseconds} ms wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds} ms CPU; GC pause {GC.GetTotalPauseDuration().TotalMilliseconds} ms, gen2 {GC.CollectionCount(2)}");
    }
}
