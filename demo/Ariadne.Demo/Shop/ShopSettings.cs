namespace Ariadne.Demo.Shop;

/// <summary>
/// Where every shop service listens and which broker carries order events; `ariadne demo` sets these as
/// environment variables for each child process, so a service can also be started by hand with the same names.
/// </summary>
internal sealed record ShopSettings(
    Uri Gateway,
    Uri Catalog,
    Uri Inventory,
    Uri Orders,
    Uri Payments,
    Uri Notifications,
    string? RabbitMq,
    string? Nats,
    string DataDirectory,
    string FaultsFile)
{
    public static readonly string[] Services = ["catalog", "inventory", "payments", "orders", "notifications", "gateway"];

    /// <summary>The gRPC services listen HTTP/2-only (h2c), which gRPC needs without TLS.</summary>
    public static bool IsGrpc(string service) => service is "inventory" or "payments";

    public static ShopSettings From(IConfiguration configuration)
    {
        Uri Url(string service, int port) =>
            new(configuration[$"DEMO_{service.ToUpperInvariant()}_URL"] is { Length: > 0 } url ? url : $"http://127.0.0.1:{port}");

        var data = configuration["DEMO_DATA_DIR"] is { Length: > 0 } d ? d : Path.Combine(Path.GetTempPath(), "ariadne-demo");
        Directory.CreateDirectory(data);
        return new ShopSettings(
            Url("gateway", 8080),
            Url("catalog", 8081),
            Url("inventory", 8082),
            Url("orders", 8083),
            Url("payments", 8084),
            Url("notifications", 8085),
            configuration["DEMO_RABBITMQ"] is { Length: > 0 } rabbit ? rabbit : null,
            configuration["DEMO_NATS"] is { Length: > 0 } nats ? nats : null,
            data,
            configuration["DEMO_FAULTS_FILE"] is { Length: > 0 } faults ? faults : Path.Combine(data, "faults.json"));
    }

    public Uri UrlOf(string service) => service switch
    {
        "gateway" => Gateway,
        "catalog" => Catalog,
        "inventory" => Inventory,
        "orders" => Orders,
        "payments" => Payments,
        "notifications" => Notifications,
        _ => throw new ArgumentOutOfRangeException(nameof(service), service, "not a shop service"),
    };
}
