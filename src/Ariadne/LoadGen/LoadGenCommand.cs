using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using Ariadne.GoCompat;
using Spectre.Console;

namespace Ariadne.LoadGen;

/// <summary><c>ariadne loadgen</c>: synthetic e-commerce traces over OTLP, with a live progress line and a summary.</summary>
internal static class LoadGenCommand
{
    public static Command Create()
    {
        var target = new Option<Uri?>("--target", "-t")
        {
            Description = "OTLP endpoint [default: http://localhost:4317 for grpc, http://localhost:4318 for http].",
            CustomParser = result => ParseAddress(result, "--target", "http://localhost:4317"),
        };
        var protocol = new Option<string>("--protocol", "-p") { Description = "grpc (OTLP/gRPC) or http (OTLP/HTTP protobuf).", DefaultValueFactory = _ => "grpc" };
        protocol.AcceptOnlyFromAmong("grpc", "http");
        var rate = new Option<double>("--rate", "-r") { Description = "Spans per second to offer; 0 sends as fast as the server takes them.", DefaultValueFactory = _ => 0 };
        var connections = new Option<int>("--connections", "-c") { Description = "Connections, each with one request in flight.", DefaultValueFactory = _ => 4 };
        var duration = new Option<TimeSpan?>("--duration", "-d")
        {
            Description = "How long to run, like 30s, 5m or 1h30m [default: 60s, or until --total-spans].",
            CustomParser = ParseDuration,
        };
        var totalSpans = new Option<long?>("--total-spans") { Description = "Stop after sending this many spans." };
        var spansPerRequest = new Option<int>("--spans-per-request") { Description = "Spans per request (whole traces of 6 to 17 spans are packed).", DefaultValueFactory = _ => 500 };
        var tenant = new Option<string?>("--tenant") { Description = "Tenant sent in the x-tenant header." };
        var token = new Option<string?>("--token") { Description = "Bearer token for a server with Auth:Tokens (needs the ingest scope)." };
        var payloads = new Option<int>("--payloads") { Description = "Distinct pre-encoded requests to cycle through.", DefaultValueFactory = _ => 32 };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic traces.", DefaultValueFactory = _ => 1 };
        var query = new Option<Uri?>("--query")
        {
            Description = "Also read while sending, through the Jaeger query API at this address (like http://localhost:16686): trace by id and search, reporting their latencies.",
            CustomParser = result => ParseAddress(result, "--query", "http://localhost:16686"),
        };
        var queryRate = new Option<double>("--query-rate") { Description = "Reads per second with --query.", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON on stdout (progress goes to stderr)." };
        var acknowledged = new Option<string?>("--acknowledged")
        {
            Description = "Append each trace of a fully accepted request to this file as it is acknowledged (trace id, span count, customer tier), to check later that the server kept it.",
        };
        foreach (var option in new Option[] { connections, spansPerRequest, payloads })
        {
            option.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() < 1)
                {
                    result.AddError($"{result.Option.Name} must be at least 1.");
                }
            });
        }

        queryRate.Validators.Add(result =>
        {
            if (result.GetValue(queryRate) <= 0)
            {
                result.AddError("--query-rate must be a positive number of reads per second.");
            }
        });
        rate.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() < 0)
            {
                result.AddError("--rate must be 0 (as fast as possible) or a positive number of spans per second.");
            }
        });

        var command = new Command("loadgen",
            "Send synthetic e-commerce traces to an OTLP endpoint at a target or maximum rate; report accepted spans/s, latency percentiles and errors.");
        foreach (var option in new Option[] { target, protocol, rate, connections, duration, totalSpans, spansPerRequest, tenant, token, payloads, seed, query, queryRate, json, acknowledged })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var grpc = parse.GetValue(protocol) == "grpc";
            var total = parse.GetValue(totalSpans);
            var options = new LoadGenOptions
            {
                Target = parse.GetValue(target) ?? new Uri(grpc ? "http://localhost:4317" : "http://localhost:4318"),
                Protocol = grpc ? LoadGenProtocol.Grpc : LoadGenProtocol.Http,
                Rate = parse.GetValue(rate),
                Connections = parse.GetValue(connections),
                Duration = parse.GetValue(duration) ?? (total is null ? TimeSpan.FromSeconds(60) : null),
                TotalSpans = total,
                SpansPerRequest = parse.GetValue(spansPerRequest),
                Tenant = parse.GetValue(tenant),
                Token = parse.GetValue(token),
                Payloads = parse.GetValue(payloads),
                Seed = parse.GetValue(seed),
                Query = parse.GetValue(query),
                QueryRate = parse.GetValue(queryRate),
                AcknowledgedFile = parse.GetValue(acknowledged),
            };
            return await RunAsync(options, parse.GetValue(json), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(LoadGenOptions options, bool json, CancellationToken cancellationToken)
    {
        using var generator = new LoadGenerator(options);
        var rate = options.Rate > 0 ? $"{options.Rate:N0} spans/s" : "max rate";
        var until = options.Duration is { } d ? $"for {d.TotalSeconds:N0} s" : $"until {options.TotalSpans:N0} spans";
        var transport = options.Protocol == LoadGenProtocol.Grpc ? "OTLP/gRPC" : "OTLP/HTTP";
        var header = $"ariadne loadgen: {transport} to {options.Target}, {rate}, {options.Connections} connections, {options.SpansPerRequest} spans/request, {until}";
        LoadGenReport report;
        if (!json && AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(header)}[/]");
            report = await AnsiConsole.Live(new Markup("preparing requests…")).StartAsync(async live =>
                await generator.RunAsync(p => live.UpdateTarget(new Markup(Markup.Escape(Describe(p)))), cancellationToken));
        }
        else
        {
            // Not a terminal (or JSON on stdout): plain progress lines on stderr every five seconds.
            await Console.Error.WriteLineAsync(header);
            var nextLine = TimeSpan.FromSeconds(5);
            report = await generator.RunAsync(p =>
            {
                if (p.Elapsed >= nextLine)
                {
                    Console.Error.WriteLine(Describe(p));
                    nextLine += TimeSpan.FromSeconds(5);
                }
            }, cancellationToken);
        }

        if (json)
        {
            WriteJson(report);
        }
        else
        {
            WriteTable(report);
        }

        if (report.SpansAccepted == 0)
        {
            await Console.Error.WriteLineAsync($"ariadne loadgen: no span was accepted. Is a server listening on {options.Target} for {transport}? Start one with `ariadne serve`, or pass --target.");
            return 1;
        }

        return 0;
    }

    private static string Describe(LoadGenProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"{p.Elapsed.TotalSeconds,6:F0} s   {p.SpansPerSecond,10:N0} spans/s accepted   {p.SpansAccepted,12:N0} accepted of {p.SpansSent:N0} sent   {p.FailedRequests:N0} failed requests");

    private static void WriteTable(LoadGenReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn(new TableColumn("").RightAligned()).HideHeaders();
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("duration", $"{report.Elapsed.TotalSeconds:F1} s");
        Row("spans sent", $"{report.SpansSent:N0}");
        Row("spans accepted", $"{report.SpansAccepted:N0}");
        Row("spans rejected", $"{report.SpansRejected:N0}");
        Row("accepted spans/s", $"{report.SpansPerSecond:N0}");
        Row("requests (failed)", $"{report.Requests:N0} ({report.FailedRequests:N0})");
        Row("latency p50 / p90 / p99 / max", $"{report.LatencyP50Ms:F2} / {report.LatencyP90Ms:F2} / {report.LatencyP99Ms:F2} / {report.LatencyMaxMs:F2} ms");
        Row("load generator CPU", $"{report.GeneratorCpu.TotalSeconds:F1} s ({report.GeneratorCpuMicrosPerSpan:F2} µs/span)");
        foreach (var (kind, count) in report.Errors.OrderByDescending(e => e.Value))
        {
            Row($"error: {kind}", $"{count:N0}");
        }

        if (report.Reads is { } reads)
        {
            foreach (var (name, read) in new[] { ("trace by id", reads.TraceById), ("search", reads.Search) })
            {
                Row($"{name}: p50 / p90 / p99 / max", $"{read.P50Ms:F2} / {read.P90Ms:F2} / {read.P99Ms:F2} / {read.MaxMs:F2} ms");
                Row($"{name}: reads (failed, not found)", $"{read.Requests:N0} ({read.Failed:N0}, {read.NotFound:N0})");
            }
        }

        AnsiConsole.Write(table);
    }

    private static void WriteJson(LoadGenReport report)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("durationSeconds", Math.Round(report.Elapsed.TotalSeconds, 3));
            writer.WriteNumber("requests", report.Requests);
            writer.WriteNumber("failedRequests", report.FailedRequests);
            writer.WriteNumber("spansSent", report.SpansSent);
            writer.WriteNumber("spansAccepted", report.SpansAccepted);
            writer.WriteNumber("spansRejected", report.SpansRejected);
            writer.WriteNumber("spansPerSecond", Math.Round(report.SpansPerSecond, 1));
            writer.WriteStartObject("latencyMs");
            writer.WriteNumber("p50", report.LatencyP50Ms);
            writer.WriteNumber("p90", report.LatencyP90Ms);
            writer.WriteNumber("p99", report.LatencyP99Ms);
            writer.WriteNumber("max", report.LatencyMaxMs);
            writer.WriteEndObject();
            writer.WriteNumber("generatorCpuSeconds", Math.Round(report.GeneratorCpu.TotalSeconds, 3));
            writer.WriteNumber("generatorCpuMicrosPerSpan", Math.Round(report.GeneratorCpuMicrosPerSpan, 3));
            writer.WriteStartObject("errors");
            foreach (var (kind, count) in report.Errors)
            {
                writer.WriteNumber(kind, count);
            }

            writer.WriteEndObject();
            if (report.Reads is { } reads)
            {
                writer.WriteStartObject("reads");
                foreach (var (name, read) in new[] { ("traceById", reads.TraceById), ("search", reads.Search) })
                {
                    writer.WriteStartObject(name);
                    writer.WriteNumber("requests", read.Requests);
                    writer.WriteNumber("failed", read.Failed);
                    writer.WriteNumber("notFound", read.NotFound);
                    writer.WriteNumber("p50", read.P50Ms);
                    writer.WriteNumber("p90", read.P90Ms);
                    writer.WriteNumber("p99", read.P99Ms);
                    writer.WriteNumber("max", read.MaxMs);
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }

        stdout.WriteByte((byte)'\n');
    }

    /// <summary>An http:// or https:// address (System.CommandLine has no Uri parser); also <c>ariadne fuzz</c>'s.</summary>
    internal static Uri? ParseAddress(ArgumentResult result, string option, string example)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            return uri;
        }

        result.AddError($"{option} '{text}' is not an http:// or https:// address, like {example}.");
        return null;
    }

    /// <summary>A Go-style duration, as everywhere else in Ariadne: 500ms, 30s, 5m, 1h30m.</summary>
    private static TimeSpan? ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value.Trim() : string.Empty;
        if (GoDuration.TryParse(text, out var nanoseconds, out _) && nanoseconds > 0)
        {
            return TimeSpan.FromTicks(nanoseconds / 100);
        }

        result.AddError($"--duration '{text}' is not a duration; use a number with a unit, like 30s, 5m or 1h30m.");
        return null;
    }
}
