using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Ariadne.Receivers.Otlp.Json;

/// <summary>The OTLP/JSON forms of the export response and of google.rpc.Status.</summary>
internal static class OtlpJsonResponses
{
    /// <summary>
    /// Writes an export response: {} on success, else partialSuccess with the signal's rejected count
    /// (<paramref name="rejectedField"/>: rejectedSpans, rejectedLogRecords) as a string (proto3 JSON writes 64-bit
    /// integers as strings).
    /// </summary>
    public static void WriteExportResponse(IBufferWriter<byte> output, OtlpExportResponse response, string rejectedField)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        if (response.IsPartialSuccess)
        {
            writer.WriteStartObject("partialSuccess");
            writer.WriteString(rejectedField, response.RejectedItems.ToString(CultureInfo.InvariantCulture));
            writer.WriteString("errorMessage", response.ErrorMessage ?? string.Empty);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes a google.rpc.Status, with a RetryInfo detail (proto3 JSON: an Any with @type) when there is a retry delay.</summary>
    public static void WriteStatus(IBufferWriter<byte> output, int code, string message, TimeSpan? retryDelay = null)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteNumber("code", code);
        writer.WriteString("message", message);
        if (retryDelay is { } delay)
        {
            writer.WriteStartArray("details");
            writer.WriteStartObject();
            writer.WriteString("@type", Protobuf.GoogleRpcStatusFieldNumbers.RetryInfoTypeUrl);
            writer.WriteString("retryDelay", $"{(long)Math.Ceiling(delay.TotalSeconds)}s");
            writer.WriteEndObject();
            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }
}
