using System.Buffers;
using Ariadne.Pipeline.Log;

namespace Ariadne.Tests.Pipeline;

public sealed class SpanCodecTests
{
    [Theory]
    [InlineData(0, 'a')]
    [InlineData(42, 'a')]
    [InlineData(42, '€')] // 126 bytes: the longest string whose length prefix is known to fit one byte
    [InlineData(43, '€')] // 129 bytes: two prefix bytes
    [InlineData(127, 'a')]
    [InlineData(128, 'a')]
    [InlineData(5000, 'é')]
    public void Strings_round_trip_with_their_utf8_length_prefix(int length, char fill)
    {
        var value = new string(fill, length);
        var buffer = new ArrayBufferWriter<byte>();
        SpanCodec.WriteString(buffer, value);
        SpanCodec.WriteString(buffer, "after");

        var byteCount = System.Text.Encoding.UTF8.GetByteCount(value);
        Assert.Equal(byteCount + (byteCount < 128 ? 1 : 2) + 6, buffer.WrittenCount);
        var reader = new SpanCodecReader(buffer.WrittenSpan);
        Assert.Equal(value, reader.ReadString());
        Assert.Equal("after", reader.ReadString());
    }

    [Fact]
    public void A_surrogate_pair_is_one_four_byte_character()
    {
        var buffer = new ArrayBufferWriter<byte>();
        SpanCodec.WriteString(buffer, "🛒 checkout");
        Assert.Equal(1 + 4 + 9, buffer.WrittenCount);
        Assert.Equal("🛒 checkout", new SpanCodecReader(buffer.WrittenSpan).ReadString());
    }
}
