using Ariadne.Access;
using Ariadne.Hosting;
using Ariadne.Operations;
using Ariadne.Receivers.Otlp.Grpc;
using Ariadne.Tenancy;
using Grpc.Core;

namespace Ariadne.Receivers;

/// <summary>
/// Honours the grpc-timeout a gRPC client sends, on every gRPC listener (OTLP, Jaeger, the cluster's internal port),
/// before access control, so time spent waiting for an ingest turn counts. When the deadline passes before the call
/// is answered, the call's token (<see cref="HttpContext.RequestAborted"/>) is cancelled, so the endpoint stops
/// waiting for the body, a turn or storage, and the client gets DEADLINE_EXCEEDED at once, as grpc-dotnet answers it.
/// Spans the ingest log already took stay durable: the client retries, and storage drops the duplicates.
/// A malformed value is no deadline, as in grpc-dotnet (grpc-go refuses the call instead): a client bug in one
/// header should not lose the spans of a call that is otherwise fine.
/// </summary>
internal sealed class GrpcDeadlineMiddleware(RequestDelegate next, TenantResolver tenants, IngestMetrics metrics, ILogger<GrpcDeadlineMiddleware> logger)
{
    private const string Reason = "deadline_exceeded";

    // CancellationTokenSource waits at most uint.MaxValue - 1 milliseconds (49 days): a longer deadline never passes.
    private static readonly TimeSpan s_longest = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly RefusalLog _log = new(logger);

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var value = request.Headers[GrpcDeadline.Header].ToString();
        if (value.Length == 0 || context.GetListener() is not { } listener || !listener.IsGrpc() || !OtlpGrpcReceiver.IsGrpc(request.ContentType))
        {
            await next(context);
            return;
        }

        if (!GrpcDeadline.TryParseTimeout(value, out var timeout) || timeout >= s_longest)
        {
            logger.LogDebug("Ignored the grpc-timeout '{Timeout}' of a call to {Path}: not 1 to 8 digits and a unit (H, M, S, m, u, n), or longer than 49 days.", value, request.Path.Value);
            await next(context);
            return;
        }

        var deadline = new GrpcDeadline();
        context.Features.Set(deadline);

        // The timer's resolution is a millisecond: a shorter deadline has passed before the call could be served.
        if (timeout < TimeSpan.FromMilliseconds(1))
        {
            deadline.TryExpire();
            await AnswerAsync(context, listener, value);
            return;
        }

        var clientAborted = context.RequestAborted;
        using var call = CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
        using var stopTimer = new CancellationTokenSource();
        var expiry = Task.Delay(timeout, stopTimer.Token);
        context.RequestAborted = call.Token;
        try
        {
            var endpoint = next(context);
            if (await Task.WhenAny(endpoint, expiry) == endpoint || !deadline.TryExpire())
            {
                await stopTimer.CancelAsync();
                await endpoint;
                return;
            }

            await call.CancelAsync();
            await AnswerAsync(context, listener, value);
            try
            {
                // The endpoint still holds the request (its body reader, an ingest turn, reserved memory) until it sees
                // the cancellation; a record it handed to the ingest log before that is durable all the same.
                await endpoint;
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
            }
        }
        finally
        {
            context.RequestAborted = clientAborted;
        }
    }

    private async Task AnswerAsync(HttpContext context, Listener listener, string value)
    {
        var refusal = new Refusal(StatusCodes.Status200OK, StatusCode.DeadlineExceeded, Reason,
            $"the call's deadline (grpc-timeout {value}) passed before the server answered; raise the client's timeout or send smaller batches. " +
            "Spans the server logged before the deadline are kept, and the duplicates a retry sends are dropped.");
        if (AccessMiddleware.IngestProtocol(listener) is { } protocol)
        {
            metrics.RecordFailedRequest(protocol, Reason);
        }

        _log.Refused(listener, refusal, context.Request.Path, tenants.Resolve(context.Request));
        refusal.WriteGrpc(context.Response);
        // Sends the trailers-only answer now, while the endpoint may still be winding down.
        await context.Response.CompleteAsync();
    }
}
