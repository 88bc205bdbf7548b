using System.Diagnostics;
using Ariadne.Demo.Protos;
using Ariadne.Instrumentation.Context;
using Grpc.Core;

namespace Ariadne.Demo.Shop;

/// <summary>Payments: card charges over gRPC, authorized by a simulated card processor with variable latency.</summary>
internal static class PaymentsProgram
{
    public static async Task RunAsync(string[] args)
    {
        var builder = ShopHost.CreateBuilder("payments", args);
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<PaymentsService>();
        var app = ShopHost.Build(builder);
        app.MapGrpcService<PaymentsService>();
        await app.RunAsync();
    }
}

internal sealed class PaymentsService(FaultSwitchboard faults, IConfiguration configuration, ILogger<PaymentsService> logger) : Protos.Payments.PaymentsBase
{
    // DEMO_CARD_PROCESSOR_MEDIAN_MS=0 takes the simulated network out, for measuring the shop's own CPU cost.
    private readonly double _medianMs = double.TryParse(configuration["DEMO_CARD_PROCESSOR_MEDIAN_MS"], System.Globalization.CultureInfo.InvariantCulture, out var median) ? median : 70;

    /// <summary>The processor's test card that is always declined, as card networks' sandboxes have.</summary>
    public const string DeclinedCard = "4000000000000002";

    public override async Task<ChargeReply> Charge(ChargeRequest request, ServerCallContext context)
    {
        var paymentId = $"pay-{Guid.NewGuid():N}"[..16];
        AriadneContext.SetPayment(paymentId);
        Activity.Current?.SetTag("payment.card_type", request.CardType);
        Activity.Current?.SetTag("payment.amount_cents", request.AmountCents);

        var declineReason = await AuthorizeAsync(request, context.CancellationToken);
        if (declineReason is not null)
        {
            logger.LogWarning("Payment {PaymentId} for order {OrderId} declined: {Reason}", paymentId, request.OrderId, declineReason);
            Activity.Current?.SetStatus(ActivityStatusCode.Error, declineReason);
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"card declined: {declineReason}"));
        }

        logger.LogInformation("Payment {PaymentId} for order {OrderId} authorized", paymentId, request.OrderId);
        return new ChargeReply { PaymentId = paymentId, AuthorizationCode = $"A{Random.Shared.Next(100000, 999999)}" };
    }

    /// <summary>
    /// The card network round trip, simulated in-process: log-normal latency (most calls 40–120 ms, a long tail to
    /// ~1 s, around a median of DEMO_CARD_PROCESSOR_MEDIAN_MS), declines for the sandbox's declined card and for a card type switched off by fault injection.
    /// </summary>
    private async Task<string?> AuthorizeAsync(ChargeRequest request, CancellationToken cancellationToken)
    {
        using var activity = ShopHost.Source.StartActivity("card-processor authorize", ActivityKind.Client);
        activity?.SetTag("peer.service", "card-processor");
        activity?.SetTag("payment.card_type", request.CardType);
        if (_medianMs > 0)
        {
            var normal = Math.Sqrt(-2 * Math.Log(1 - Random.Shared.NextDouble())) * Math.Cos(2 * Math.PI * Random.Shared.NextDouble());
            var latency = Math.Min(1000, Math.Exp(Math.Log(_medianMs) + (0.5 * normal)));
            await Task.Delay(TimeSpan.FromMilliseconds(latency), cancellationToken);
        }

        string? reason = null;
        if (request.CardNumber == DeclinedCard)
        {
            reason = "insufficient funds";
        }
        else if (string.Equals(faults.Current.FailingCardType, request.CardType, StringComparison.OrdinalIgnoreCase))
        {
            reason = $"{request.CardType} network unavailable";
        }

        if (reason is not null)
        {
            activity?.SetStatus(ActivityStatusCode.Error, reason);
            activity?.SetTag("payment.decline_reason", reason);
        }

        return reason;
    }
}
