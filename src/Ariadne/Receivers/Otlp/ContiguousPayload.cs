using System.Buffers;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// A request body as one span for the decoders: the buffer itself when it is a single segment, else one copy into
/// a pooled array, returned on dispose.
/// </summary>
internal readonly ref struct ContiguousPayload
{
    private readonly byte[]? _rented;

    public ContiguousPayload(in ReadOnlySequence<byte> payload)
    {
        if (payload.IsSingleSegment)
        {
            Span = payload.FirstSpan;
            return;
        }

        var length = checked((int)payload.Length);
        _rented = ArrayPool<byte>.Shared.Rent(length);
        payload.CopyTo(_rented);
        Span = _rented.AsSpan(0, length);
    }

    public ReadOnlySpan<byte> Span { get; }

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
        }
    }
}
