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

    /// <summary>
    /// Encodes a google.rpc.Status (code is a google.rpc.Code, the same numbers as gRPC status codes), with a
    /// google.rpc.RetryInfo detail when there is a retry delay: collectors retry RESOURCE_EXHAUSTED only when
    /// that detail is present, and wait as long as it says.
    /// </summary>
    public static byte[] EncodeStatus(int code, string message, TimeSpan? retryDelay = null)
    {
        var text = Encoding.UTF8.GetBytes(message);
        var seconds = retryDelay is { } delay ? (ulong)Math.Max(0, (long)Math.Ceiling(delay.TotalSeconds)) : 0;
        // RetryInfo { Duration retry_delay = 1 } with Duration { int64 seconds = 1 }, inside Any { type_url = 1, value = 2 }.
        var durationLength = seconds != 0 ? 1 + VarintLength(seconds) : 0;
        var retryInfoLength = 1 + VarintLength((ulong)durationLength) + durationLength;
        var typeUrlLength = Encoding.UTF8.GetByteCount(GoogleRpcStatusFieldNumbers.RetryInfoTypeUrl);
        var anyLength = 1 + VarintLength((ulong)typeUrlLength) + typeUrlLength + 1 + VarintLength((ulong)retryInfoLength) + retryInfoLength;
        var detailLength = retryDelay is null ? 0 : 1 + VarintLength((ulong)anyLength) + anyLength;

        var buffer = new byte[1 + VarintLength((ulong)code) + 1 + VarintLength((ulong)text.Length) + text.Length + detailLength];
        var position = 0;
        WriteVarint(buffer, ref position, GoogleRpcStatusFieldNumbers.Status_Code << 3 | Varint);
        WriteVarint(buffer, ref position, (ulong)code);
        WriteVarint(buffer, ref position, GoogleRpcStatusFieldNumbers.Status_Message << 3 | Len);
        WriteVarint(buffer, ref position, (ulong)text.Length);
        text.CopyTo(buffer, position);
        position += text.Length;
        if (retryDelay is null)
        {
            return buffer;
        }

        WriteVarint(buffer, ref position, GoogleRpcStatusFieldNumbers.Status_Details << 3 | Len);
        WriteVarint(buffer, ref position, (ulong)anyLength);
        WriteVarint(buffer, ref position, GoogleRpcStatusFieldNumbers.Any_TypeUrl << 3 | Len);
        WriteVarint(buffer, ref position, (ulong)typeUrlLength);
        position += Encoding.UTF8.GetBytes(GoogleRpcStatusFieldNumbers.RetryInfoTypeUrl, buffer.AsSpan(position));
        WriteVarint(buffer, ref position, GoogleRpcStatusFieldNumbers.Any_Value << 3 | Len);
        WriteVarint(buffer, ref position, (ulong)retryInfoLength);
        WriteVarint(buffer, ref position, GoogleRpcStatusFieldNumbers.RetryInfo_RetryDelay << 3 | Len);
        WriteVarint(buffer, ref position, (ulong)durationLength);
        if (seconds != 0)
        {
            WriteVarint(buffer, ref position, GoogleRpcStatusFieldNumbers.Duration_Seconds << 3 | Varint);
            WriteVarint(buffer, ref position, seconds);
        }

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
