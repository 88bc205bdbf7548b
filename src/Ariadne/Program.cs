using System.CommandLine;
using Ariadne.Cli;
using Ariadne.Fuzzing;
using Ariadne.LoadGen;

var root = new RootCommand("""
    Ariadne: a distributed tracing server. Receives OpenTelemetry (OTLP gRPC/HTTP) and Zipkin spans, stores them,
    and serves the Jaeger query API, a web UI, remote sampling strategies and Prometheus metrics.
    """);
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(LoadGenCommand.Create());
root.Subcommands.Add(StorageCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(FuzzCommand.Create());
// SIGTERM and Ctrl+C cancel the command's token; each command then stops within its own timeout (serve: the
// ShutdownTimeout setting). The library's default would kill the process 2 s later, mid-way through a clean stop.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromMinutes(1) });
