using System.Net;
using System.Text.Json;
using Google.Protobuf;

namespace Ariadne.Tests.Receivers.Zipkin;

/// <summary>
/// Encodes Zipkin v2 JSON spans as zipkin.proto3.ListOfSpans with Google.Protobuf's <see cref="CodedOutputStream"/>,
/// so the receiver's hand-written proto3 reader is checked against an independent encoder.
/// </summary>
internal static class ZipkinProtoWriter
{
    public static byte[] Encode(string json)
    {
        using var document = JsonDocument.Parse(json);
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        foreach (var span in document.RootElement.EnumerateArray())
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(EncodeSpan(span)));
        }

        output.Flush();
        return buffer.ToArray();
    }

    private static byte[] EncodeSpan(JsonElement span)
    {
        return Message(output =>
        {
            WriteHex(output, 1, span, "traceId");
            WriteHex(output, 2, span, "parentId");
            WriteHex(output, 3, span, "id");
            if (span.TryGetProperty("kind", out var kind))
            {
                output.WriteTag(4, WireFormat.WireType.Varint);
                output.WriteEnum(kind.GetString() switch { "CLIENT" => 1, "SERVER" => 2, "PRODUCER" => 3, "CONSUMER" => 4, _ => 0 });
            }

            if (span.TryGetProperty("name", out var name))
            {
                output.WriteTag(5, WireFormat.WireType.LengthDelimited);
                output.WriteString(name.GetString());
            }

            if (span.TryGetProperty("timestamp", out var timestamp))
            {
                output.WriteTag(6, WireFormat.WireType.Fixed64);
                output.WriteFixed64(timestamp.GetUInt64());
            }

            if (span.TryGetProperty("duration", out var duration))
            {
                output.WriteTag(7, WireFormat.WireType.Varint);
                output.WriteUInt64(duration.GetUInt64());
            }

            WriteEndpoint(output, 8, span, "localEndpoint");
            WriteEndpoint(output, 9, span, "remoteEndpoint");
            if (span.TryGetProperty("annotations", out var annotations) && annotations.ValueKind == JsonValueKind.Array)
            {
                foreach (var annotation in annotations.EnumerateArray())
                {
                    output.WriteTag(10, WireFormat.WireType.LengthDelimited);
                    output.WriteBytes(ByteString.CopyFrom(Message(a =>
                    {
                        a.WriteTag(1, WireFormat.WireType.Fixed64);
                        a.WriteFixed64(annotation.GetProperty("timestamp").GetUInt64());
                        a.WriteTag(2, WireFormat.WireType.LengthDelimited);
                        a.WriteString(annotation.GetProperty("value").GetString());
                    })));
                }
            }

            if (span.TryGetProperty("tags", out var tags))
            {
                foreach (var tag in tags.EnumerateObject())
                {
                    output.WriteTag(11, WireFormat.WireType.LengthDelimited);
                    output.WriteBytes(ByteString.CopyFrom(Message(entry =>
                    {
                        entry.WriteTag(1, WireFormat.WireType.LengthDelimited);
                        entry.WriteString(tag.Name);
                        entry.WriteTag(2, WireFormat.WireType.LengthDelimited);
                        entry.WriteString(tag.Value.ValueKind == JsonValueKind.String ? tag.Value.GetString() : tag.Value.GetRawText());
                    })));
                }
            }

            WriteBool(output, 12, span, "debug");
            WriteBool(output, 13, span, "shared");

            // An unknown field, as a newer Zipkin would send: the reader must skip it.
            output.WriteTag(99, WireFormat.WireType.LengthDelimited);
            output.WriteString("from the future");
        });
    }

    private static void WriteEndpoint(CodedOutputStream output, int field, JsonElement span, string property)
    {
        if (!span.TryGetProperty(property, out var endpoint) || endpoint.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(Message(e =>
        {
            if (endpoint.TryGetProperty("serviceName", out var serviceName) && serviceName.ValueKind == JsonValueKind.String)
            {
                e.WriteTag(1, WireFormat.WireType.LengthDelimited);
                e.WriteString(serviceName.GetString());
            }

            foreach (var (tag, name) in new[] { (2, "ipv4"), (3, "ipv6") })
            {
                if (endpoint.TryGetProperty(name, out var ip) && ip.ValueKind == JsonValueKind.String)
                {
                    e.WriteTag(tag, WireFormat.WireType.LengthDelimited);
                    e.WriteBytes(ByteString.CopyFrom(IPAddress.Parse(ip.GetString()!).GetAddressBytes()));
                }
            }

            if (endpoint.TryGetProperty("port", out var port))
            {
                e.WriteTag(4, WireFormat.WireType.Varint);
                e.WriteInt32(port.GetInt32());
            }
        })));
    }

    private static void WriteHex(CodedOutputStream output, int field, JsonElement span, string property)
    {
        if (span.TryGetProperty(property, out var hex))
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(Convert.FromHexString(hex.GetString()!)));
        }
    }

    private static void WriteBool(CodedOutputStream output, int field, JsonElement span, string property)
    {
        if (span.TryGetProperty(property, out var value) && value.GetBoolean())
        {
            output.WriteTag(field, WireFormat.WireType.Varint);
            output.WriteBool(true);
        }
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        write(output);
        output.Flush();
        return buffer.ToArray();
    }
}
