using System.Collections.Concurrent;
using Ariadne.Demo.Protos;
using Grpc.Core;

namespace Ariadne.Demo.Shop;

/// <summary>Inventory: stock reservations over gRPC. Warehouse items are reserved at a slow central warehouse.</summary>
internal static class InventoryProgram
{
    public static async Task RunAsync(string[] args)
    {
        var builder = ShopHost.CreateBuilder("inventory", args);
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<InventoryService>();
        var app = ShopHost.Build(builder);
        app.MapGrpcService<InventoryService>();
        await app.RunAsync();
    }
}

internal sealed class InventoryService(FaultSwitchboard faults, ILogger<InventoryService> logger) : Protos.Inventory.InventoryBase
{
    // Central-warehouse lookups take longer than the orders service waits (its gRPC deadline), which is the
    // "inventory timeout" scenario.
    private static readonly TimeSpan s_warehouseLatency = TimeSpan.FromSeconds(3);

    private readonly ConcurrentDictionary<string, int> _stock = new(StringComparer.Ordinal);

    public override async Task<ReserveReply> Reserve(ReserveRequest request, ServerCallContext context)
    {
        var slow = faults.Current.SlowInventoryMs;
        if (slow > 0)
        {
            await Task.Delay(slow, context.CancellationToken);
        }

        var warehouse = "local";
        foreach (var line in request.Lines)
        {
            if (line.ProductId.StartsWith("wh-", StringComparison.Ordinal))
            {
                warehouse = "central";
                using var lookup = ShopHost.Source.StartActivity("central warehouse stock lookup");
                lookup?.SetTag("product.id", line.ProductId);
                await Task.Delay(s_warehouseLatency, context.CancellationToken);
            }

            var left = _stock.AddOrUpdate(line.ProductId, 1000 - line.Quantity, (_, stock) => stock - line.Quantity);
            if (left < 0)
            {
                _stock.AddOrUpdate(line.ProductId, 1000, (_, _) => 1000);
                throw new RpcException(new Status(StatusCode.ResourceExhausted, $"product {line.ProductId} is out of stock"));
            }
        }

        logger.LogInformation("Reserved {Lines} lines for order {OrderId} at the {Warehouse} warehouse", request.Lines.Count, request.OrderId, warehouse);
        return new ReserveReply { ReservationId = $"res-{Guid.NewGuid():N}"[..16], Warehouse = warehouse };
    }
}
