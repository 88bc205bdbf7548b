using Google.Protobuf;

namespace Ariadne.Tests.Receivers.Otlp;

/// <summary>
/// Rewrites a serialized OTLP trace (or logs) request with unknown fields of every wire type inserted before, between and
/// after the fields of every message at every level: varints, fixed32, fixed64, length-delimited (random bytes or
/// packed varints), repeated unpacked varints and groups (nested). A newer OTLP version or a vendor extension
/// looks like this to our decoder, which must skip all of it exactly as the generated parser does.
/// </summary>
public static class UnknownFieldInjector
{
    // Field numbers no OTLP trace message uses (every one stops at 16), up to protobuf's maximum.
    private static readonly int[] s_unknownFieldNumbers = [17, 18, 31, 100, 1000, 12345, 536_870_911];

    // Which fields of which message are messages themselves: the walk recurses into those.
    private static readonly Dictionary<string, Dictionary<int, string>> s_schema = new()
    {
        ["Request"] = new() { [1] = "ResourceSpans" },
        ["ResourceSpans"] = new() { [1] = "Resource", [2] = "ScopeSpans" },
        ["Resource"] = new() { [1] = "KeyValue" },
        ["ScopeSpans"] = new() { [1] = "Scope", [2] = "Span" },
        ["Scope"] = new() { [3] = "KeyValue" },
        ["Span"] = new() { [9] = "KeyValue", [11] = "Event", [13] = "Link", [15] = "Status" },
        ["Event"] = new() { [3] = "KeyValue" },
        ["Link"] = new() { [4] = "KeyValue" },
        ["Status"] = new(),
        ["KeyValue"] = new() { [2] = "AnyValue" },
        ["AnyValue"] = new() { [5] = "ArrayValue", [6] = "KeyValueList" },
        ["ArrayValue"] = new() { [1] = "AnyValue" },
        ["KeyValueList"] = new() { [1] = "KeyValue" },
        ["LogsRequest"] = new() { [1] = "ResourceLogs" },
        ["ResourceLogs"] = new() { [1] = "Resource", [2] = "ScopeLogs" },
        ["ScopeLogs"] = new() { [1] = "Scope", [2] = "LogRecord" },
        ["LogRecord"] = new() { [5] = "AnyValue", [6] = "KeyValue" },
    };

    public static byte[] Inject(byte[] request, Random random) => Rewrite(request, "Request", random);

    /// <summary>The same for an ExportLogsServiceRequest (no logs message uses a field number over 12).</summary>
    public static byte[] InjectIntoLogs(byte[] request, Random random) => Rewrite(request, "LogsRequest", random);

    private static byte[] Rewrite(byte[] message, string type, Random random)
    {
        using var output = new MemoryStream();
        var writer = new CodedOutputStream(output, leaveOpen: true);
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            MaybeWriteUnknown(writer, random);
            var field = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.Varint:
                    writer.WriteTag(tag);
                    writer.WriteUInt64(input.ReadUInt64());
                    break;
                case WireFormat.WireType.Fixed32:
                    writer.WriteTag(tag);
                    writer.WriteFixed32(input.ReadFixed32());
                    break;
                case WireFormat.WireType.Fixed64:
                    writer.WriteTag(tag);
                    writer.WriteFixed64(input.ReadFixed64());
                    break;
                case WireFormat.WireType.LengthDelimited:
                    var content = input.ReadBytes().ToByteArray();
                    if (s_schema[type].TryGetValue(field, out var child))
                    {
                        content = Rewrite(content, child, random);
                    }

                    writer.WriteTag(tag);
                    writer.WriteBytes(ByteString.CopyFrom(content));
                    break;
                default:
                    throw new InvalidOperationException($"unexpected wire type in {type}");
            }
        }

        MaybeWriteUnknown(writer, random);
        writer.Flush();
        return output.ToArray();
    }

    private static void MaybeWriteUnknown(CodedOutputStream writer, Random random)
    {
        while (random.Next(3) == 0)
        {
            WriteUnknown(writer, random, groupDepth: 0);
        }
    }

    private static void WriteUnknown(CodedOutputStream writer, Random random, int groupDepth)
    {
        var field = s_unknownFieldNumbers[random.Next(s_unknownFieldNumbers.Length)];
        switch (random.Next(groupDepth < 3 ? 7 : 6))
        {
            case 0:
                writer.WriteTag(field, WireFormat.WireType.Varint);
                writer.WriteUInt64((ulong)random.NextInt64() << random.Next(2));
                break;
            case 1:
                writer.WriteTag(field, WireFormat.WireType.Fixed32);
                writer.WriteFixed32((uint)random.Next());
                break;
            case 2:
                writer.WriteTag(field, WireFormat.WireType.Fixed64);
                writer.WriteFixed64((ulong)random.NextInt64());
                break;
            case 3:
                var bytes = new byte[random.Next(0, 20)];
                random.NextBytes(bytes);
                writer.WriteTag(field, WireFormat.WireType.LengthDelimited);
                writer.WriteBytes(ByteString.CopyFrom(bytes));
                break;
            case 4:
                // A packed repeated varint field: one length-delimited run of varints.
                using (var packed = new MemoryStream())
                {
                    var packedWriter = new CodedOutputStream(packed, leaveOpen: true);
                    for (var i = random.Next(1, 5); i > 0; i--)
                    {
                        packedWriter.WriteUInt64((ulong)random.NextInt64());
                    }

                    packedWriter.Flush();
                    writer.WriteTag(field, WireFormat.WireType.LengthDelimited);
                    writer.WriteBytes(ByteString.CopyFrom(packed.ToArray()));
                }

                break;
            case 5:
                // The same field unpacked: one tag per element.
                for (var i = random.Next(2, 5); i > 0; i--)
                {
                    writer.WriteTag(field, WireFormat.WireType.Varint);
                    writer.WriteUInt64((ulong)random.Next());
                }

                break;
            default:
                writer.WriteTag(field, WireFormat.WireType.StartGroup);
                for (var i = random.Next(0, 3); i > 0; i--)
                {
                    WriteUnknown(writer, random, groupDepth + 1);
                }

                writer.WriteTag(field, WireFormat.WireType.EndGroup);
                break;
        }
    }
}
