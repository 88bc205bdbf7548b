namespace Ariadne.Receivers;

/// <summary>
/// A gRPC call's deadline, from the grpc-timeout request header, and the one answer the call gets: either its
/// endpoint's, or DEADLINE_EXCEEDED when the deadline passes first (<see cref="GrpcDeadlineMiddleware"/>). Every
/// gRPC answer claims the call through <see cref="TryAnswer"/> before it touches the response, so the endpoint
/// and the deadline never write the same response at once.
/// </summary>
internal sealed class GrpcDeadline
{
    public const string Header = "grpc-timeout";

    private const int Open = 0;
    private const int AnsweredByEndpoint = 1;
    private const int Expired = 2;

    private int _state;

    /// <summary>
    /// Whether the caller may write the call's answer: true for a call without a deadline, and for one whose deadline
    /// has not answered it yet, which from then on no longer can.
    /// </summary>
    public static bool TryAnswer(HttpContext context) =>
        context.Features.Get<GrpcDeadline>() is not { } deadline
        || Interlocked.CompareExchange(ref deadline._state, AnsweredByEndpoint, Open) != Expired;

    /// <summary>Claims the call for DEADLINE_EXCEEDED; false when the endpoint has begun its own answer.</summary>
    public bool TryExpire() => Interlocked.CompareExchange(ref _state, Expired, Open) == Open;

    /// <summary>
    /// Parses a grpc-timeout value: 1 to 8 digits, then the unit (H, M, S, m, u, n), as the gRPC over HTTP/2 spec
    /// writes it. False for anything else, and for a zero timeout, which the spec does not allow.
    /// </summary>
    public static bool TryParseTimeout(ReadOnlySpan<char> value, out TimeSpan timeout)
    {
        timeout = default;
        if (value.Length is < 2 or > 9)
        {
            return false;
        }

        long amount = 0;
        foreach (var digit in value[..^1])
        {
            if (!char.IsAsciiDigit(digit))
            {
                return false;
            }

            amount = (amount * 10) + (digit - '0');
        }

        // At most 99999999 hours, 3.6e18 ticks: no unit overflows a TimeSpan.
        long? ticks = value[^1] switch
        {
            'H' => amount * TimeSpan.TicksPerHour,
            'M' => amount * TimeSpan.TicksPerMinute,
            'S' => amount * TimeSpan.TicksPerSecond,
            'm' => amount * TimeSpan.TicksPerMillisecond,
            'u' => amount * TimeSpan.TicksPerMicrosecond,
            'n' => amount / TimeSpan.NanosecondsPerTick,
            _ => null,
        };
        if (ticks is null || amount == 0)
        {
            return false;
        }

        timeout = TimeSpan.FromTicks(ticks.Value);
        return true;
    }
}
