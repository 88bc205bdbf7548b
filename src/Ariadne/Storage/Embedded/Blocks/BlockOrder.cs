using Ariadne.Model;

namespace Ariadne.Storage.Embedded.Blocks;

/// <summary>
/// The order of a block's traces (format version 2): by the start of the trace's first span, then by trace id. Row
/// groups then each hold a slice of time, so a search skips those outside its window and stops at the newest once
/// it has its limit, while a trace's spans stay together in one run of rows.
/// </summary>
public static class BlockOrder
{
    /// <summary>Compares two traces whose spans are sorted by start time.</summary>
    public static int Compare((TraceId TraceId, List<Span> Spans) a, (TraceId TraceId, List<Span> Spans) b)
    {
        var byStart = a.Spans[0].StartTimeUnixNano.CompareTo(b.Spans[0].StartTimeUnixNano);
        return byStart != 0 ? byStart : a.TraceId.CompareTo(b.TraceId);
    }
}
