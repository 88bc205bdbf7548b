using Ariadne.Model;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// The reusable working memory of the OTLP decoders (protobuf and JSON): the string table of the request being
/// decoded and the stacks repeated fields are collected on. One per thread, rented for the length of a decode,
/// which never awaits, so it is never shared.
/// </summary>
internal sealed class DecoderScratch
{
    // Longer values (URLs, SQL, stack traces) are rarely repeated within a request; hashing them would not pay.
    private const int MaxInternedValueBytes = 64;

    [ThreadStatic]
    private static DecoderScratch? t_cached;

    public Utf8StringTable Strings { get; } = new();

    public ScratchStack<KeyValue> KeyValues { get; } = new();

    public ScratchStack<AnyValue> Values { get; } = new();

    public ScratchStack<SpanEvent> Events { get; } = new();

    public ScratchStack<SpanLink> Links { get; } = new();

    /// <summary>The thread's scratch, for one decode: <c>using var lease = DecoderScratch.Rent();</c></summary>
    public static Lease Rent()
    {
        var scratch = t_cached ?? new DecoderScratch();
        t_cached = null;
        return new Lease(scratch);
    }

    private static void Return(DecoderScratch scratch)
    {
        scratch.Strings.Clear();
        scratch.KeyValues.Clear();
        scratch.Values.Clear();
        scratch.Events.Clear();
        scratch.Links.Clear();
        t_cached = scratch;
    }

    /// <summary>A name or key: always interned.</summary>
    public string GetName(ReadOnlySpan<byte> utf8) => Strings.Get(utf8);

    /// <summary>A value: interned when short enough to be a repeated one.</summary>
    public string GetValue(ReadOnlySpan<byte> utf8) =>
        utf8.Length <= MaxInternedValueBytes ? Strings.Get(utf8) : OtlpStrings.Decode(utf8);

    /// <summary>A rented scratch; disposing it clears the scratch and gives it back to the thread.</summary>
    public readonly ref struct Lease(DecoderScratch scratch)
    {
        public DecoderScratch Scratch => scratch;

        public void Dispose() => Return(scratch);
    }
}
