using System.Buffers.Binary;
using System.IO.Hashing;

namespace Ariadne.Pipeline.Log;

/// <summary>
/// Replays log segments. A record whose frame runs past the end of the file or whose CRC does not match ends
/// that segment: it is a write torn by a crash (never acknowledged, since acknowledgement follows the fsync),
/// so it is dropped and reported, and replay continues with the next segment.
/// </summary>
public static class SegmentReader
{
    /// <summary>Calls <paramref name="onRecord"/> for every intact record; returns the torn tails found.</summary>
    public static List<string> Replay(string directory, Action<LogPosition, ReadOnlySpan<byte>> onRecord)
    {
        var problems = new List<string>();
        foreach (var (number, path) in SegmentLog.ListSegments(directory))
        {
            ReplaySegment(number, path, onRecord, problems);
        }

        return problems;
    }

    /// <summary>Replays one segment with each record's position; a torn tail is added to <paramref name="problems"/>.</summary>
    public static void ReplaySegment(long number, string path, Action<LogPosition, ReadOnlySpan<byte>> onRecord, List<string> problems) =>
        ReadSegment(Path.GetFileName(path), File.ReadAllBytes(path), (offset, payload) => onRecord(new LogPosition(number, offset), payload), problems);

    /// <summary>
    /// Calls <paramref name="onRecord"/> for every intact record of one segment's bytes, up to the first torn one
    /// (added to <paramref name="problems"/>, named <paramref name="name"/>).
    /// </summary>
    public static void ReadSegment(string name, ReadOnlySpan<byte> bytes, Action<ReadOnlySpan<byte>> onRecord, List<string> problems) =>
        ReadSegment(name, bytes, (_, payload) => onRecord(payload), problems);

    /// <summary>As <see cref="ReadSegment(string, ReadOnlySpan{byte}, Action{ReadOnlySpan{byte}}, List{string})"/>, with each record's offset.</summary>
    public static void ReadSegment(string name, ReadOnlySpan<byte> bytes, Action<long, ReadOnlySpan<byte>> onRecord, List<string> problems)
    {
        var position = 0;
        while (position < bytes.Length)
        {
            var remaining = bytes.Length - position;
            if (remaining < SegmentLog.HeaderLength)
            {
                problems.Add($"{name}: {remaining} bytes of a torn record header at offset {position} dropped");
                break;
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[position..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(position + 4)..]);
            if (length > remaining - SegmentLog.HeaderLength)
            {
                problems.Add($"{name}: record at offset {position} claims {length} bytes but only {remaining - SegmentLog.HeaderLength} remain; torn tail dropped");
                break;
            }

            var payload = bytes.Slice(position + SegmentLog.HeaderLength, (int)length);
            if (Crc32.HashToUInt32(payload) != crc)
            {
                problems.Add($"{name}: record at offset {position} fails its CRC check; it and the {remaining} bytes after it dropped");
                break;
            }

            onRecord(position, payload);
            position += SegmentLog.HeaderLength + (int)length;
        }
    }
}
