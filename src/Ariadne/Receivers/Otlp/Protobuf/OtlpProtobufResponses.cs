using System.Numerics;
using System.Text;
using static Ariadne.Receivers.Otlp.Protobuf.OtlpTraceFieldNumbers;
using static Ariadne.Receivers.Otlp.Protobuf.WireType;

namespace Ariadne.Receivers.Otlp.Protobuf;

/// <summary>
/// Encodes the two small messages Ariadne answers OTLP requests with: the export response and google.rpc.Status.
/// Sizes are computed first, so each is one exact-size array.
/// </summary>
internal static class OtlpProtobufResponses
{
    /// <summary>Encodes an export response; success is the empty message.</summary>
    public static byte[] EncodeExportResponse(OtlpExportResponse response)
    {
        if (!response.IsPartialSuccess)
        {
            return [];
        }

        var message = string.IsNullOrEmpty(response.ErrorMessage) ? [] : Encoding.UTF8.GetBytes(response.ErrorMessage);
        var partialSuccessLength =
            (response.RejectedItems != 0 ? 1 + VarintLength((ulong)response.RejectedItems) : 0)
            + (message.Length != 0 ? 1 + VarintLength((ulong)message.Length) + message.Length : 0);
        var buffer = new byte[1 + VarintLength((ulong)partialSuccessLength) + partialSuccessLength];
        var position = 0;
        WriteVarint(buffer, ref position, ExportTraceServiceResponse_PartialSuccess << 3 | Len);
        WriteVarint(buffer, ref position, (ulong)partialSuccessLength);
        if (response.RejectedItems != 0)
        {
            WriteVarint(buffer, ref position, ExportTracePartialSuccess_RejectedSpans << 3 | Varint);
            WriteVarint(buffer, ref position, (ulong)response.RejectedItems);
        }

        if (message.Length != 0)
        {
            WriteVarint(buffer, ref position, ExportTracePartialSuccess_ErrorMessage << 3 | Len);
            WriteVarint(buffer, ref position, (ulong)message.Length);
            message.CopyTo(buffer, position);
        }

        return buffer;
    }

    /// <summary>Encodes a google.rpc.Status (code is a google.rpc.Code, the same numbers as gRPC status codes).</summary>
    public static byte[] EncodeStatus(int code, string message)
    {
        var text = Encoding.UTF8.GetBytes(message);
        var buffer = new byte[1 + VarintLength((ulong)code) + 1 + VarintLength((ulong)text.Length) + text.Length];
        var position = 0;
        WriteVarint(buffer, ref position, GoogleRpcStatusFieldNumbers.Status_Code << 3 | Varint);
        WriteVarint(buffer, ref position, (ulong)code);
        WriteVarint(buffer, ref position, GoogleRpcStatusFieldNumbers.Status_Message << 3 | Len);
        WriteVarint(buffer, ref position, (ulong)text.Length);
        text.CopyTo(buffer, position);
        return buffer;
    }

    private static int VarintLength(ulong value) => (BitOperations.Log2(value | 1) / 7) + 1;

    private static void WriteVarint(byte[] buffer, ref int position, ulong value)
    {
        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[position++] = (byte)value;
    }
}
