using System.Globalization;
using Ariadne.Demo.Shop;
using Ariadne.Demo.Traffic;

// One executable, one service per process: `Ariadne.Demo <service>`. `ariadne demo` starts them all.
var usage = "usage: Ariadne.Demo gateway|catalog|inventory|orders|payments|notifications|traffic (settings: DEMO_*_URL, DEMO_RABBITMQ, DEMO_NATS, DEMO_DATA_DIR, DEMO_RATE, DEMO_MIX)";
if (args.Length == 0)
{
    Console.Error.WriteLine(usage);
    return 2;
}

var rest = args[1..];
switch (args[0])
{
    case "gateway": await Gateway.RunAsync(rest); break;
    case "catalog": await Catalog.RunAsync(rest); break;
    case "inventory": await InventoryProgram.RunAsync(rest); break;
    case "orders": await Orders.RunAsync(rest); break;
    case "payments": await PaymentsProgram.RunAsync(rest); break;
    case "notifications": await Notifications.RunAsync(rest); break;
    case "traffic":
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        var settings = ShopSettings.From(configuration);
        var rate = double.TryParse(configuration["DEMO_RATE"], NumberStyles.Float, CultureInfo.InvariantCulture, out var r) ? r : 3;
        var mix = TrafficGenerator.ParseMix(configuration["DEMO_MIX"] is { Length: > 0 } m ? m : TrafficGenerator.DefaultMix);
        // Not disposed: ProcessExit may cancel it after the traffic loop has returned.
        var stop = new CancellationTokenSource();
        using (var http = new HttpClient { BaseAddress = settings.Gateway, Timeout = TimeSpan.FromSeconds(30) })
        {
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
            AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
            ParentWatch.Start(configuration["DEMO_PARENT_PID"], stop.Cancel);
            Console.WriteLine($"traffic: {rate.ToString(CultureInfo.InvariantCulture)} requests/s against {settings.Gateway}, mix {string.Join(",", mix.Select(x => $"{x.Item1}={x.Item2}"))}");
            await new TrafficGenerator(http, rate, mix).RunAsync(stop.Token);
        }

        break;
    default:
        Console.Error.WriteLine(usage);
        return 2;
}

return 0;
