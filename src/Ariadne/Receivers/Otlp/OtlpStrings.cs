using System.Text;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// UTF-8 decoding of OTLP strings. Invalid UTF-8 makes the request malformed, as it does for the generated protobuf
/// parsers (Google.Protobuf for C#, Go's protobuf in the Collector): storing replacement characters would silently
/// change attribute values and keys.
/// </summary>
internal static class OtlpStrings
{
    private static readonly UTF8Encoding s_strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string Decode(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return s_strict.GetString(utf8);
        }
        catch (DecoderFallbackException e)
        {
            throw new OtlpMalformedException("A string field is not valid UTF-8.", e);
        }
    }
}
