using System.Buffers.Binary;

namespace Ariadne.Fuzzing;

/// <summary>The kinds of damage <see cref="Mutator"/> does to a payload, each as a hostile network or client would.</summary>
internal enum Mutation
{
    BitFlips,
    Truncation,
    BadWireType,
    HugeDeclaredLength,
    InvalidUtf8,
    Splice,
    InterestingBytes,
}

/// <summary>
/// Deterministic mutations of valid payloads, the ones an independent fuzzer found 5xx with (issue 13): bit flips,
/// truncation, bad protobuf wire types, huge declared lengths, invalid UTF-8 and lone surrogates, spliced and
/// overwritten bytes. Seeded, so a failure names the seed and iteration that reproduce it. Shared by the decoder
/// fuzz tests and <c>ariadne fuzz</c>, the black-box fuzzer.
/// </summary>
internal sealed class Mutator(int seed)
{
    private static readonly byte[][] s_invalidUtf8 =
    [
        [0xC3, 0x28], // a lead byte without its continuation
        [0xFF],
        [0xED, 0xA0, 0x80], // a UTF-16 surrogate encoded as UTF-8 (CESU)
        [0xF4, 0x90, 0x80, 0x80], // past U+10FFFF
        [0xC0, 0xAF], // overlong '/'
        "\\ud800"u8.ToArray(), // a lone surrogate as a JSON escape
        "\\udc00\\ud800"u8.ToArray(),
    ];

    private static readonly byte[] s_interesting = [0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'"', (byte)'{', (byte)'[', (byte)'\\', (byte)':', (byte)','];

    private readonly Random _random = new(seed);

    public Mutation Last { get; private set; }

    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    /// <summary>A damaged copy of <paramref name="payload"/>: one to three mutations.</summary>
    public byte[] Mutate(ReadOnlySpan<byte> payload)
    {
        var bytes = new List<byte>(payload.Length + 16);
        bytes.AddRange(payload);
        var count = 1 + _random.Next(3);
        for (var i = 0; i < count; i++)
        {
            Last = (Mutation)_random.Next(Enum.GetValues<Mutation>().Length);
            Apply(Last, bytes);
        }

        return [.. bytes];
    }

    private void Apply(Mutation mutation, List<byte> bytes)
    {
        if (bytes.Count == 0)
        {
            bytes.Add(s_interesting[_random.Next(s_interesting.Length)]);
            return;
        }

        var at = _random.Next(bytes.Count);
        switch (mutation)
        {
            case Mutation.BitFlips:
                for (var flips = 1 + _random.Next(8); flips > 0; flips--)
                {
                    var i = _random.Next(bytes.Count);
                    bytes[i] ^= (byte)(1 << _random.Next(8));
                }

                break;
            case Mutation.Truncation:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            case Mutation.BadWireType:
                // Wire types 3 and 4 (groups) and 6 and 7 (none) in a tag's low bits.
                bytes[at] = (byte)((bytes[at] & ~7) | (3 + (_random.Next(4) switch { 0 => 0, 1 => 1, 2 => 3, _ => 4 })));
                break;
            case Mutation.HugeDeclaredLength:
                // A length-delimited field 1..15 declaring up to 4 GiB, or a length varint overwritten in place.
                Span<byte> huge = [(byte)(((1 + _random.Next(15)) << 3) | 2), 0xFF, 0xFF, 0xFF, 0xFF, 0x0F];
                if (_random.Next(2) == 0)
                {
                    bytes.InsertRange(at, huge.ToArray());
                }
                else
                {
                    for (var i = 1; i < huge.Length && at + i - 1 < bytes.Count; i++)
                    {
                        bytes[at + i - 1] = huge[i];
                    }
                }

                break;
            case Mutation.InvalidUtf8:
                bytes.InsertRange(at, s_invalidUtf8[_random.Next(s_invalidUtf8.Length)]);
                break;
            case Mutation.Splice:
                var from = _random.Next(bytes.Count);
                var length = Math.Min(bytes.Count - from, 1 + _random.Next(64));
                bytes.InsertRange(at, bytes.GetRange(from, length));
                break;
            case Mutation.InterestingBytes:
                for (var n = 1 + _random.Next(4); n > 0; n--)
                {
                    bytes[_random.Next(bytes.Count)] = s_interesting[_random.Next(s_interesting.Length)];
                }

                break;
        }
    }

    /// <summary>A gRPC frame (flag byte, big-endian length, message), optionally with a bad flag or a length that lies.</summary>
    public byte[] GrpcFrame(ReadOnlySpan<byte> message)
    {
        var frame = new byte[5 + message.Length];
        frame[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame.AsSpan(5));
        switch (_random.Next(8))
        {
            case 0:
                frame[0] = (byte)(2 + _random.Next(254)); // neither 0 (plain) nor 1 (compressed)
                break;
            case 1:
                BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)_random.NextInt64(uint.MaxValue));
                break;
            case 2:
                frame[0] = 1; // "compressed" without grpc-encoding, or with a body that is not gzip
                break;
        }

        return frame;
    }
}
