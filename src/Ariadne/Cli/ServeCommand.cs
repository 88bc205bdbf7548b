using System.CommandLine;
using Ariadne.Configuration;
using Ariadne.Hosting;

namespace Ariadne.Cli;

internal static class ServeCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config", "-c") { Description = "JSON config file (keys as in docs/configuration.md)." };
        var storage = new Option<string?>("--storage") { Description = "Storage engine: embedded (default), memory or clickhouse." };
        var data = new Option<string?>("--data") { Description = "Data directory of the embedded engine [default: ./ariadne-data]." };
        var listen = new Option<string?>("--listen-address") { Description = "Address to bind [default: 0.0.0.0]." };
        var memoryMaxTraces = new Option<int?>("--memory-max-traces") { Description = "Traces the memory engine keeps per tenant [default: 100000]." };
        var clickHouseUrl = new Option<string?>("--clickhouse-url") { Description = "ClickHouse HTTP interface, such as http://host:8123; with a cluster, every node, comma-separated." };
        var clickHouseCluster = new Option<string?>("--clickhouse-cluster") { Description = "Cluster name from the ClickHouse servers' remote_servers: shard spans by trace id over it." };
        var sampling = new Option<string?>("--sampling") { Description = "Head-sampling strategies served to SDKs: static or adaptive [default: static]." };
        var strategies = new Option<string?>("--sampling-strategies") { Description = "Jaeger sampling strategies file (static mode)." };
        var clusterPeers = new Option<string?>("--cluster-peers") { Description = "Cluster mode: every node's internal host:port, comma-separated, this one included (or dns:NAME:PORT); needs --storage clickhouse." };
        var clusterSelf = new Option<string?>("--cluster-self") { Description = "This node's entry in --cluster-peers [default: the local peer on --cluster-port]." };
        var region = new Option<string?>("--region") { Description = "This node's region, as the other regions name it in their --region-peers." };
        var regionPeers = new Option<string?>("--region-peers") { Description = "The other regions' query endpoints, name=http://host:16686, comma-separated: reads also ask them (federated reads)." };
        var ports = new (Option<int?> Option, string Key)[]
        {
            (new Option<int?>("--otlp-grpc-port") { Description = "OTLP/gRPC port [default: 4317]; 0 picks a free port." }, "Ports:OtlpGrpc"),
            (new Option<int?>("--otlp-http-port") { Description = "OTLP/HTTP port [default: 4318]." }, "Ports:OtlpHttp"),
            (new Option<int?>("--zipkin-port") { Description = "Zipkin v2 port [default: 9411]." }, "Ports:Zipkin"),
            (new Option<int?>("--query-port") { Description = "UI, Jaeger query API and /metrics port [default: 16686]." }, "Ports:Query"),
            (new Option<int?>("--sampling-port") { Description = "Jaeger remote sampling port [default: 5778]." }, "Ports:Sampling"),
            (new Option<int?>("--jaeger-thrift-http-port") { Description = "Jaeger Thrift over HTTP (POST /api/traces) port [default: 14268]; 0 disables it." }, "Ports:JaegerThriftHttp"),
            (new Option<int?>("--jaeger-grpc-port") { Description = "Jaeger gRPC (PostSpans) port [default: 14250]; 0 disables it." }, "Ports:JaegerGrpc"),
            (new Option<int?>("--jaeger-compact-port") { Description = "Jaeger agent UDP port, Thrift compact [default: 6831]; 0 disables it." }, "Ports:JaegerCompact"),
            (new Option<int?>("--jaeger-binary-port") { Description = "Jaeger agent UDP port, Thrift binary [default: 6832]; 0 disables it." }, "Ports:JaegerBinary"),
            (new Option<int?>("--tempo-port") { Description = "Tempo HTTP API for Grafana's Tempo data source [default: 3200]; 0 disables it (the query port serves it too)." }, "Ports:Tempo"),
            (new Option<int?>("--cluster-port") { Description = "Cluster mode's internal OTLP/gRPC port, where other nodes forward spans [default: 4319]; private network only." }, "Cluster:InternalPort"),
        };

        var command = new Command("serve", "Run the Ariadne server: ingest (OTLP, Zipkin, Jaeger), storage, query API and UI.");
        command.Options.Add(config);
        command.Options.Add(storage);
        command.Options.Add(data);
        command.Options.Add(listen);
        command.Options.Add(memoryMaxTraces);
        command.Options.Add(clickHouseUrl);
        command.Options.Add(clickHouseCluster);
        command.Options.Add(sampling);
        command.Options.Add(strategies);
        command.Options.Add(clusterPeers);
        command.Options.Add(clusterSelf);
        command.Options.Add(region);
        command.Options.Add(regionPeers);
        foreach (var (option, _) in ports)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            void Set(string key, object? value)
            {
                if (value is not null)
                {
                    overrides[key] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            Set("Storage", parse.GetValue(storage));
            Set("DataDirectory", parse.GetValue(data));
            Set("ListenAddress", parse.GetValue(listen));
            Set("Memory:MaxTraces", parse.GetValue(memoryMaxTraces));
            Set("ClickHouse:Url", parse.GetValue(clickHouseUrl));
            Set("ClickHouse:Cluster", parse.GetValue(clickHouseCluster));
            Set("Sampling:Mode", parse.GetValue(sampling));
            Set("Sampling:StrategiesFile", parse.GetValue(strategies));
            Set("Cluster:Peers", parse.GetValue(clusterPeers));
            Set("Cluster:Self", parse.GetValue(clusterSelf));
            Set("Cluster:Region", parse.GetValue(region));
            Set("Cluster:RegionPeers", parse.GetValue(regionPeers));
            foreach (var (option, key) in ports)
            {
                Set(key, parse.GetValue(option));
            }

            if (await CliConfiguration.TryLoadAsync(parse.GetValue(config), overrides) is not { } options)
            {
                return CliConfiguration.InvalidConfigurationExitCode;
            }

            if (AriadneServer.FindPortInUse(options) is var (listener, port))
            {
                var flag = ports.First(p => p.Key == (listener == Listener.Cluster ? "Cluster:InternalPort" : "Ports:" + listener)).Option.Name;
                await Console.Error.WriteLineAsync($"ariadne: port {port} on {options.ListenAddress} ({listener}) is already in use. Stop whatever holds it, or choose another with {flag}.");
                return 1;
            }

            AriadneServer server;
            try
            {
                server = AriadneServer.Create(options);
            }
            catch (Storage.Embedded.StorageFormatException e)
            {
                await Console.Error.WriteLineAsync($"ariadne: cannot open storage: {e.Message}");
                return 1;
            }
            catch (ConfigurationException e)
            {
                // Settings that can only be checked against the machine (the cluster's peer names).
                await Console.Error.WriteLineAsync($"ariadne: invalid configuration:{Environment.NewLine}{e.Message}");
                return CliConfiguration.InvalidConfigurationExitCode;
            }

            await using var serverScope = server;
            try
            {
                await server.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"ariadne: cannot listen: {e.Message}. Stop whatever holds the port, or choose another with the --*-port flags.");
                return 1;
            }
            catch (Storage.ClickHouse.ClickHouseException e)
            {
                await Console.Error.WriteLineAsync($"ariadne: {e.Message}");
                return 1;
            }

            var cluster = server.Services.GetService<Cluster.ClusterMembership>() is { } membership
                ? $" Cluster node {membership.Self} of {membership.Ring.Peers.Count} ({string.Join(", ", membership.Ring.Peers)}), internal port :{server.GetPort(Listener.Cluster)}."
                : string.Empty;

            Console.WriteLine(
                $"Ariadne is up: UI and query API http://localhost:{server.GetPort(Listener.Query)}, " +
                $"OTLP gRPC :{server.GetPort(Listener.OtlpGrpc)}, OTLP HTTP :{server.GetPort(Listener.OtlpHttp)}, " +
                $"Zipkin :{server.GetPort(Listener.Zipkin)}, sampling :{server.GetPort(Listener.Sampling)}; storage {options.Storage}.{cluster}");
            await server.App.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
