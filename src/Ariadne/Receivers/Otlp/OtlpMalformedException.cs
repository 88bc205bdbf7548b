using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Ariadne.Receivers.Otlp;

/// <summary>
/// A request body that is not a valid OTLP message. Receivers answer it with HTTP 400 / gRPC InvalidArgument and
/// the message, which says what was wrong so the sender can fix its exporter.
/// </summary>
public sealed class OtlpMalformedException(string message, Exception? innerException = null) : Exception(message, innerException)
{
    /// <summary>Throw sites call this so the decoders' hot methods stay small (Kestrel's Reject* pattern).</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(string message) => throw new OtlpMalformedException(message);
}
