using System.Buffers.Binary;
using System.IO.Hashing;

namespace Ariadne.Storage.Embedded.Wal;

/// <summary>
/// Replays WAL segments. A record whose frame runs past the end of the file or whose CRC does not match ends
/// that segment: it is a write torn by a crash (never acknowledged, since acknowledgement follows the fsync),
/// so it is dropped and reported, and replay continues with the next segment.
/// </summary>
public static class WalReader
{
    /// <summary>Calls <paramref name="onRecord"/> for every intact record; returns the torn tails found.</summary>
    public static List<string> Replay(string directory, Action<long, ReadOnlySpan<byte>> onRecord)
    {
        var problems = new List<string>();
        foreach (var (number, path) in WriteAheadLog.ListSegments(directory))
        {
            ReplaySegment(number, path, onRecord, problems);
        }

        return problems;
    }

    /// <summary>Replays one sealed segment; a torn tail is added to <paramref name="problems"/>.</summary>
    public static void ReplaySegment(long number, string path, Action<long, ReadOnlySpan<byte>> onRecord, List<string> problems) =>
        ReadSegment(Path.GetFileName(path), File.ReadAllBytes(path), payload => onRecord(number, payload), problems);

    /// <summary>
    /// Calls <paramref name="onRecord"/> for every intact record of one segment's bytes, up to the first torn one
    /// (added to <paramref name="problems"/>, named <paramref name="name"/>).
    /// </summary>
    public static void ReadSegment(string name, ReadOnlySpan<byte> bytes, Action<ReadOnlySpan<byte>> onRecord, List<string> problems)
    {
        var position = 0;
        while (position < bytes.Length)
        {
            var remaining = bytes.Length - position;
            if (remaining < WriteAheadLog.HeaderLength)
            {
                problems.Add($"{name}: {remaining} bytes of a torn record header at offset {position} dropped");
                break;
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[position..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(position + 4)..]);
            if (length > remaining - WriteAheadLog.HeaderLength)
            {
                problems.Add($"{name}: record at offset {position} claims {length} bytes but only {remaining - WriteAheadLog.HeaderLength} remain; torn tail dropped");
                break;
            }

            var payload = bytes.Slice(position + WriteAheadLog.HeaderLength, (int)length);
            if (Crc32.HashToUInt32(payload) != crc)
            {
                problems.Add($"{name}: record at offset {position} fails its CRC check; it and the {remaining} bytes after it dropped");
                break;
            }

            onRecord(payload);
            position += WriteAheadLog.HeaderLength + (int)length;
        }
    }
}
