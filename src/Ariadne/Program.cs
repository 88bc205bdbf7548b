using System.CommandLine;
using Ariadne.Cli;
using Ariadne.LoadGen;

var root = new RootCommand("""
    Ariadne: a distributed tracing server. Receives OpenTelemetry (OTLP gRPC/HTTP) and Zipkin spans, stores them,
    and serves the Jaeger query API, a web UI, remote sampling strategies and Prometheus metrics.
    """);
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(LoadGenCommand.Create());
root.Subcommands.Add(StorageCommand.Create());
return await root.Parse(args).InvokeAsync();
