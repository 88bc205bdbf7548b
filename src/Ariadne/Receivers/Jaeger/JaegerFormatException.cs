using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Ariadne.Receivers.Jaeger;

/// <summary>
/// A Jaeger payload (Thrift or protobuf) that cannot be read. Receivers answer it with HTTP 400 or gRPC
/// InvalidArgument and this message, or drop the datagram and count it; the message says what is wrong.
/// </summary>
public sealed class JaegerFormatException(string message) : Exception(message)
{
    [DoesNotReturn]
    [StackTraceHidden]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(string message) => throw new JaegerFormatException(message);
}
