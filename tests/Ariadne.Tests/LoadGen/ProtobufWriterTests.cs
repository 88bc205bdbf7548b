using Ariadne.LoadGen;
using Ariadne.Model;
using Google.Protobuf;

namespace Ariadne.Tests.LoadGen;

public sealed class ProtobufWriterTests
{
    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(127UL)]
    [InlineData(128UL)]
    [InlineData(300UL)]
    [InlineData(16_383UL)]
    [InlineData(16_384UL)]
    [InlineData(uint.MaxValue)]
    [InlineData(ulong.MaxValue)]
    public void Varint_fixed_and_string_fields_match_google_protobuf_byte_for_byte(ulong value)
    {
        var writer = new ProtobufWriter(16);
        writer.WriteVarintField(3, value);
        writer.WriteFixed64Field(7, value);
        writer.WriteFixed32Field(16, (uint)value);
        writer.WriteStringField(5, $"span-{value}-é");
        writer.WriteBytesField(1, BitConverter.GetBytes(value));

        using var expected = new MemoryStream();
        var output = new CodedOutputStream(expected);
        output.WriteTag(3, WireFormat.WireType.Varint);
        output.WriteUInt64(value);
        output.WriteTag(7, WireFormat.WireType.Fixed64);
        output.WriteFixed64(value);
        output.WriteTag(16, WireFormat.WireType.Fixed32);
        output.WriteFixed32((uint)value);
        output.WriteTag(5, WireFormat.WireType.LengthDelimited);
        output.WriteString($"span-{value}-é");
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(BitConverter.GetBytes(value)));
        output.Flush();

        Assert.Equal(expected.ToArray(), writer.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(70_000)]
    public void Nested_messages_with_padded_lengths_parse_with_google_protobuf(int contentLength)
    {
        var writer = new ProtobufWriter(16);
        var outer = writer.BeginMessage(1);
        var inner = writer.BeginMessage(2);
        writer.WriteStringField(1, new string('x', contentLength));
        writer.EndMessage(inner);
        writer.WriteVarintField(3, 42);
        writer.EndMessage(outer);

        var input = new CodedInputStream(writer.ToArray());
        Assert.Equal(WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited), input.ReadTag());
        var outerInput = new CodedInputStream(input.ReadBytes().ToByteArray());
        Assert.True(input.IsAtEnd);
        Assert.Equal(WireFormat.MakeTag(2, WireFormat.WireType.LengthDelimited), outerInput.ReadTag());
        var innerInput = new CodedInputStream(outerInput.ReadBytes().ToByteArray());
        Assert.Equal(WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited), innerInput.ReadTag());
        Assert.Equal(contentLength, innerInput.ReadString().Length);
        Assert.Equal(WireFormat.MakeTag(3, WireFormat.WireType.Varint), outerInput.ReadTag());
        Assert.Equal(42UL, outerInput.ReadUInt64());
        Assert.True(outerInput.IsAtEnd);
    }
}
