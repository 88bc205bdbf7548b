using System.CommandLine;
using System.Net.Sockets;
using Ariadne.Configuration;
using Ariadne.Demo;
using Ariadne.Hosting;

namespace Ariadne.Cli;

/// <summary>
/// `ariadne demo`: the server, the six-service demo shop (each its own process) and shoppers, in one command.
/// </summary>
internal static class DemoCommand
{
    private const string DefaultRabbitMq = "amqp://guest:guest@127.0.0.1:5672/";

    public static Command Create()
    {
        var rabbit = new Option<string?>("--rabbitmq") { Description = $"RabbitMQ URI for order events [env ARIADNE_DEMO_RABBITMQ; tried: {DefaultRabbitMq}]." };
        var nats = new Option<string?>("--nats") { Description = "NATS URL for order events instead of RabbitMQ [env ARIADNE_DEMO_NATS]." };
        var rate = new Option<double>("--rate") { Description = "Shopper requests per second.", DefaultValueFactory = _ => DemoConfiguration.TrafficRate };
        var mix = new Option<string?>("--mix") { Description = "Scenario weights, e.g. browse=35,search=20,cart=20,checkout=15,declined=5,timeout=5." };
        var queryPort = new Option<int?>("--query-port") { Description = "UI and query API port [default: 16686]." };
        var otlpPort = new Option<int?>("--otlp-grpc-port") { Description = "OTLP/gRPC port the shop exports to [default: 4317]." };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "The shop gateway's port, where the fault switches are (0: a free one).", DefaultValueFactory = _ => DemoConfiguration.GatewayPort };
        var data = new Option<string>("--data") { Description = "Where the demo's embedded storage keeps its data (kept across runs).", DefaultValueFactory = _ => "./ariadne-demo-data" };

        var command = new Command("demo", "Run Ariadne with a demo e-commerce shop (gateway, catalog, inventory, orders, payments, notifications) and live traffic.");
        foreach (var option in new Option[] { rabbit, nats, rate, mix, queryPort, otlpPort, gatewayPort, data })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = DemoConfiguration.Server(parse.GetValue(data)!);
            if (parse.GetValue(queryPort) is { } q)
            {
                overrides["Ports:Query"] = q.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            if (parse.GetValue(otlpPort) is { } o)
            {
                overrides["Ports:OtlpGrpc"] = o.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            AriadneOptions options;
            try
            {
                options = ConfigurationLoader.Load(null, overrides);
            }
            catch (ConfigurationException e)
            {
                await Console.Error.WriteLineAsync($"ariadne demo: invalid configuration:{Environment.NewLine}{e.Message}");
                return 2;
            }

            // The shop needs the UI and OTLP/gRPC where it was told; the other listeners move to a free port if theirs is taken.
            while (AriadneServer.FindPortInUse(options) is var (listener, port))
            {
                if (listener is Listener.Query or Listener.OtlpGrpc)
                {
                    await Console.Error.WriteLineAsync($"ariadne demo: port {port} on {options.ListenAddress} ({listener}) is already in use. Stop the other Ariadne (or whatever holds it), or pass {(listener == Listener.Query ? "--query-port" : "--otlp-grpc-port")}.");
                    return 1;
                }

                var instead = listener is Listener.JaegerThriftHttp or Listener.JaegerGrpc or Listener.Tempo ? "is turned off" : "takes a free port instead";
                await Console.Error.WriteLineAsync($"ariadne demo: port {port} ({listener}) is in use; that listener {instead}.");
                switch (listener)
                {
                    case Listener.OtlpHttp:
                        options.Ports.OtlpHttp = 0;
                        break;
                    case Listener.Zipkin:
                        options.Ports.Zipkin = 0;
                        break;
                    case Listener.JaegerThriftHttp:
                        options.Ports.JaegerThriftHttp = 0; // 0 turns a Jaeger listener off; the demo does not use it
                        break;
                    case Listener.JaegerGrpc:
                        options.Ports.JaegerGrpc = 0;
                        break;
                    case Listener.Tempo:
                        options.Ports.Tempo = 0; // the query port serves Tempo's API too
                        break;
                    default:
                        options.Ports.Sampling = 0;
                        break;
                }
            }

            // Jaeger's agent ports are UDP, which FindPortInUse does not probe; the demo does not need them.
            options.Ports.JaegerCompact = UdpPortFree(options.ListenAddress, options.Ports.JaegerCompact) ? options.Ports.JaegerCompact : 0;
            options.Ports.JaegerBinary = UdpPortFree(options.ListenAddress, options.Ports.JaegerBinary) ? options.Ports.JaegerBinary : 0;

            await using var server = AriadneServer.Create(options, logging => logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole(c => c.SingleLine = true));
            try
            {
                await server.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"ariadne demo: cannot listen: {e.Message}. Stop the other Ariadne (or whatever holds the port), or pass --query-port / --otlp-grpc-port.");
                return 1;
            }

            var rabbitGiven = parse.GetValue(rabbit) ?? Environment.GetEnvironmentVariable("ARIADNE_DEMO_RABBITMQ");
            var natsGiven = parse.GetValue(nats) ?? Environment.GetEnvironmentVariable("ARIADNE_DEMO_NATS");
            DemoBroker? broker = null;
            if (rabbitGiven is null && natsGiven is null && DemoBroker.IsInstalled)
            {
                // As scripts/demo.sh does, so that `ariadne demo` alone shows the messaging hop too.
                Console.WriteLine("Starting a private RabbitMQ (about 10 s)…");
                try
                {
                    broker = await DemoBroker.StartAsync(TimeSpan.FromSeconds(60), cancellationToken);
                    rabbitGiven = broker.Uri;
                }
                catch (InvalidOperationException e)
                {
                    await Console.Error.WriteLineAsync($"ariadne demo: {e.Message} The shop falls back to an in-process channel.");
                }
            }

            await using var brokerLifetime = broker;
            var (rabbitUri, natsUrl, transport) = await ChooseBrokerAsync(rabbitGiven, natsGiven, cancellationToken);
            if (broker is not null)
            {
                transport += " (private broker started by ariadne demo)";
            }

            Console.WriteLine("Starting the demo shop: catalog, inventory, payments, orders, notifications, gateway…");
            DemoShop shop;
            try
            {
                shop = await DemoShop.StartAsync(
                    new DemoShopOptions
                    {
                        OtlpEndpoint = new Uri($"http://127.0.0.1:{server.GetPort(Listener.OtlpGrpc)}"),
                        RabbitMq = rabbitUri,
                        Nats = natsUrl,
                        GatewayPort = parse.GetValue(gatewayPort),
                        TrafficRate = parse.GetValue(rate),
                        TrafficMix = parse.GetValue(mix),

                        // Warnings and errors only: at a few requests per second, per-order info lines drown the rest.
                        Environment = new Dictionary<string, string>(DemoConfiguration.Shop(server.GetUri(Listener.Sampling)))
                        {
                            ["Logging__LogLevel__Default"] = "Warning",
                        },
                        Output = (service, line) => Console.WriteLine($"{service,-13}| {line}"),
                    },
                    cancellationToken);
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"ariadne demo: {e.Message}");
                return 1;
            }

            await using (shop)
            {
                var gateway = shop.Gateway.ToString().TrimEnd('/');
                Console.WriteLine($$"""

                    Ariadne demo is running. Ctrl+C stops everything.
                      UI and Jaeger API  http://localhost:{{server.GetPort(Listener.Query)}}
                      OTLP               grpc :{{server.GetPort(Listener.OtlpGrpc)}}, http :{{server.GetPort(Listener.OtlpHttp)}}
                      shop gateway       {{gateway}}   (curl {{gateway}}/api/products?q=tent)
                      order events       {{transport}}
                      traffic            {{parse.GetValue(rate)}} requests/s
                      storage            embedded, in {{Path.GetFullPath(options.DataDirectory)}}
                      sampling           adaptive head sampling served on :{{server.GetPort(Listener.Sampling)}} to the shop's SDKs; tail sampling keeps
                                         errors, traces over 1 s and payments, and {{DemoConfiguration.SampledPercent}} % of the rest (decided 5 s after a trace's last span)
                      alerts             GatewayErrors (errorBurstSeconds), InventorySlow (slowInventoryMs), CatalogSearchSlow (slowSql):
                                         http://localhost:{{server.GetPort(Listener.Query)}}/alerts
                      inject faults      curl -X POST {{gateway}}/admin/faults -H 'content-type: application/json' \
                                           -d '{"slowInventoryMs":{{DemoConfiguration.SlowInventoryMs}},"failingCardType":"amex","errorBurstSeconds":{{DemoConfiguration.ErrorBurstSeconds}},"slowSql":true}'
                      clear faults       curl -X POST {{gateway}}/admin/faults -H 'content-type: application/json' -d '{}'

                    """);
                try
                {
                    await server.App.WaitForShutdownAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C.
                }

                Console.WriteLine("Stopping the demo shop…");
            }

            return 0;
        });
        return command;
    }

    private static async Task<(string? Rabbit, string? Nats, string Description)> ChooseBrokerAsync(string? rabbit, string? nats, CancellationToken cancellationToken)
    {
        if (rabbit is not null)
        {
            return await IsReachableAsync(rabbit, 5672, cancellationToken)
                ? (rabbit, null, $"RabbitMQ {Redacted(rabbit)}")
                : (null, null, $"FALLBACK: in-process channel inside orders (RabbitMQ at {Redacted(rabbit)} is not reachable)");
        }

        if (nats is not null)
        {
            return await IsReachableAsync(nats, 4222, cancellationToken)
                ? (null, nats, $"NATS {nats}")
                : (null, null, $"FALLBACK: in-process channel inside orders (NATS at {nats} is not reachable)");
        }

        return await IsReachableAsync(DefaultRabbitMq, 5672, cancellationToken)
            ? (DefaultRabbitMq, null, "RabbitMQ amqp://127.0.0.1:5672")
            : (null, null, "FALLBACK: in-process channel inside orders (no RabbitMQ on :5672 and rabbitmq-server is not installed: apt-get install rabbitmq-server, or pass --rabbitmq)");
    }

    private static async Task<bool> IsReachableAsync(string uri, int defaultPort, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            return false;
        }

        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await client.ConnectAsync(parsed.Host, parsed.Port > 0 ? parsed.Port : defaultPort, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static string Redacted(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.UserInfo.Length > 0 ? uri.Replace(parsed.UserInfo + "@", string.Empty, StringComparison.Ordinal) : uri;

    private static bool UdpPortFree(string address, int port)
    {
        if (port == 0)
        {
            return true;
        }

        try
        {
            using var probe = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(address), port));
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
