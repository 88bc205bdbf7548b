using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Ariadne.Receivers.Otlp.Json;

/// <summary>The OTLP/JSON forms of the export response and of google.rpc.Status.</summary>
internal static class OtlpJsonResponses
{
    /// <summary>
    /// Writes an export response: {} on success, else partialSuccess with rejectedSpans as a string (proto3 JSON
    /// writes 64-bit integers as strings). Only traces ever reject, so the field is the trace one.
    /// </summary>
    public static void WriteExportResponse(IBufferWriter<byte> output, OtlpExportResponse response)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        if (response.IsPartialSuccess)
        {
            writer.WriteStartObject("partialSuccess");
            writer.WriteString("rejectedSpans", response.RejectedItems.ToString(CultureInfo.InvariantCulture));
            writer.WriteString("errorMessage", response.ErrorMessage ?? string.Empty);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    public static void WriteStatus(IBufferWriter<byte> output, int code, string message)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteNumber("code", code);
        writer.WriteString("message", message);
        writer.WriteEndObject();
    }
}
