using Ariadne.Model;

namespace Ariadne.Limits;

/// <summary>
/// What a span costs for Limits:MaxBytesPerTrace: about its OTLP protobuf size (text counted a character a byte,
/// fixed fields and framing at a flat rate). Cheap, and close enough for a limit meant to stop traces of gigabytes.
/// </summary>
internal static class SpanSize
{
    public static long Of(Span span)
    {
        long size = 64 + span.Name.Length + span.StatusMessage.Length + span.TraceState.Length + Of(span.Attributes);
        foreach (var e in span.Events)
        {
            size += 16 + e.Name.Length + Of(e.Attributes);
        }

        foreach (var link in span.Links)
        {
            size += 40 + link.TraceState.Length + Of(link.Attributes);
        }

        return size;
    }

    private static long Of(KeyValue[] attributes)
    {
        long size = 0;
        foreach (var (key, value) in attributes)
        {
            size += 4 + key.Length + Of(value);
        }

        return size;
    }

    private static long Of(AnyValue value)
    {
        switch (value.Type)
        {
            case AnyValueType.String:
                return value.AsString.Length;
            case AnyValueType.Bytes:
                return value.AsBytes.Length;
            case AnyValueType.Array:
                long size = 0;
                foreach (var item in value.AsArray)
                {
                    size += 2 + Of(item);
                }

                return size;
            case AnyValueType.KeyValueList:
                return Of(value.AsKeyValueList);
            default:
                return 9;
        }
    }
}
