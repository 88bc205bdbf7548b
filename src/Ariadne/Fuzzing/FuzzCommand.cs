using System.Collections.Concurrent;
using System.CommandLine;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Ariadne.Model;
using Spectre.Console;

namespace Ariadne.Fuzzing;

/// <summary>
/// <c>ariadne fuzz</c>: a black-box mutation fuzzer against a running server. Sends mutated OTLP (protobuf, JSON,
/// gzip over HTTP; framed over gRPC), Zipkin (JSON, protobuf) and Jaeger (Thrift over HTTP, a real client's batch;
/// protobuf over gRPC) requests, counts the answers by status, and plants a valid canary trace every so often (on
/// every channel but Jaeger Thrift, whose real batch has fixed ids); at the end every acknowledged canary must be
/// readable from the query API. Reports progress every 10 s on stderr. Exits 1 when a request got a server error
/// (5xx other than 503, gRPC UNKNOWN or INTERNAL) or a canary is missing.
/// </summary>
internal static class FuzzCommand
{
    private static readonly string[] s_channels =
        ["otlp-http-protobuf", "otlp-http-json", "otlp-http-gzip", "otlp-grpc", "zipkin-json", "zipkin-proto", "jaeger-thrift-http", "jaeger-grpc"];

    private static readonly TimeSpan s_progressEvery = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var otlpHttp = Address("--otlp-http", "OTLP/HTTP base address.", "http://localhost:4318");
        var otlpGrpc = Address("--otlp-grpc", "OTLP/gRPC base address (HTTP/2 without TLS).", "http://localhost:4317");
        var zipkin = Address("--zipkin", "Zipkin base address.", "http://localhost:9411");
        var jaegerHttp = Address("--jaeger-http", "Jaeger collector's Thrift over HTTP base address.", "http://localhost:14268");
        var jaegerGrpc = Address("--jaeger-grpc", "Jaeger collector's gRPC base address (HTTP/2 without TLS).", "http://localhost:14250");
        var query = Address("--query", "Query API base address, where the canaries are read back.", "http://localhost:16686");
        var requests = new Option<int>("--requests", "-n") { Description = "Requests to send, canaries included.", DefaultValueFactory = _ => 5_000 };
        var connections = new Option<int>("--connections", "-c") { Description = "Requests in flight at once.", DefaultValueFactory = _ => 4 };
        var canaryEvery = new Option<int>("--canary-every") { Description = "One valid canary trace per this many requests of each channel.", DefaultValueFactory = _ => 50 };
        var seed = new Option<int>("--seed") { Description = "Seed of the mutations: the same seed sends the same requests.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON on stdout." };
        var command = new Command("fuzz", "Send mutated OTLP, Zipkin and Jaeger requests to a running server, count the answers by status, and check that every acknowledged canary trace is stored.");
        foreach (var option in new Option[] { otlpHttp, otlpGrpc, zipkin, jaegerHttp, jaegerGrpc, query, requests, connections, canaryEvery, seed, json })
        {
            command.Options.Add(option);
        }

        foreach (var option in new[] { requests, connections, canaryEvery })
        {
            option.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() < 1)
                {
                    result.AddError($"{result.Option.Name} must be at least 1.");
                }
            });
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var targets = new FuzzEndpoints(parse.GetValue(otlpHttp)!, parse.GetValue(otlpGrpc)!, parse.GetValue(zipkin)!, parse.GetValue(jaegerHttp)!, parse.GetValue(jaegerGrpc)!, parse.GetValue(query)!);
            var summary = await RunAsync(targets, parse.GetValue(requests), parse.GetValue(connections), parse.GetValue(canaryEvery), parse.GetValue(seed), cancellationToken);
            Print(summary, parse.GetValue(json));
            return summary.ServerErrors == 0 && summary.CanariesMissing == 0 ? 0 : 1;
        });
        return command;
    }

    private static Option<Uri?> Address(string name, string description, string fallback) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => new Uri(fallback),
        CustomParser = result => LoadGen.LoadGenCommand.ParseAddress(result, name, fallback),
    };

    internal static async Task<FuzzSummary> RunAsync(FuzzEndpoints endpoints, int requests, int connections, int canaryEvery, int seed, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections }) { Timeout = TimeSpan.FromSeconds(30) };
        var answers = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var canaries = new ConcurrentBag<TraceId>();
        var next = -1;
        using var stopProgress = new CancellationTokenSource();
        var progress = ReportProgressAsync(() => Math.Min(Volatile.Read(ref next) + 1, requests), requests, answers, stopProgress.Token);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(worker => Task.Run(async () =>
        {
            // One mutator per worker, seeded from the run's seed: a run is reproducible for a given --connections.
            var mutator = new Mutator(seed * 1_000 + worker);
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests && !cancellationToken.IsCancellationRequested)
            {
                var channel = s_channels[i % s_channels.Length];
                // Each channel's requests take turns, so every channel gets its canaries.
                var canary = i / s_channels.Length % canaryEvery == 0;
                var trace = TraceId.FromBytes(Guid.NewGuid().ToByteArray());
                var answer = await SendAsync(http, endpoints, channel, trace, canary ? null : mutator, cancellationToken);
                answers.AddOrUpdate($"{channel} {answer}", 1, (_, n) => n + 1);
                if (canary && channel != "jaeger-thrift-http" && answer is "http 200" or "http 202" or "grpc 0")
                {
                    canaries.Add(trace);
                }
            }
        }, cancellationToken)));
        await stopProgress.CancelAsync();
        await progress;

        var missing = 0;
        foreach (var trace in canaries)
        {
            using var response = await http.GetAsync(new Uri(endpoints.Query, $"/api/traces/{trace}"), cancellationToken);
            missing += response.StatusCode == HttpStatusCode.OK ? 0 : 1;
        }

        return new FuzzSummary(requests, new SortedDictionary<string, int>(answers, StringComparer.Ordinal), canaries.Count, missing);
    }

    private static async Task<string> SendAsync(HttpClient http, FuzzEndpoints endpoints, string channel, TraceId trace, Mutator? mutator, CancellationToken cancellationToken)
    {
        byte[] Body(byte[] valid) => mutator?.Mutate(valid) ?? valid;
        var (uri, contentType, body, grpc, gzip) = channel switch
        {
            "otlp-http-protobuf" => (new Uri(endpoints.OtlpHttp, "/v1/traces"), "application/x-protobuf", Body(Seed("otlp-protobuf", trace, mutator)), false, false),
            "otlp-http-json" => (new Uri(endpoints.OtlpHttp, "/v1/traces"), "application/json", Body(Seed("otlp-json", trace, mutator)), false, false),
            "otlp-http-gzip" => (new Uri(endpoints.OtlpHttp, "/v1/traces"), "application/x-protobuf", Gzip(FuzzSeeds.OtlpProtobuf(trace), mutator), false, true),
            "otlp-grpc" => (new Uri(endpoints.OtlpGrpc, "/opentelemetry.proto.collector.trace.v1.TraceService/Export"), "application/grpc",
                mutator is null ? Frame(FuzzSeeds.OtlpProtobuf(trace)) : mutator.GrpcFrame(Body(Seed("otlp-protobuf", trace, mutator))), true, false),
            "zipkin-json" => (new Uri(endpoints.Zipkin, "/api/v2/spans"), "application/json", Body(Seed("zipkin-json", trace, mutator)), false, false),
            "zipkin-proto" => (new Uri(endpoints.Zipkin, "/api/v2/spans"), "application/x-protobuf", Body(FuzzSeeds.ZipkinProto(trace)), false, false),
            "jaeger-thrift-http" => (new Uri(endpoints.JaegerHttp, "/api/traces"), "application/x-thrift", Body(FuzzSeeds.RealClient("go-collector-binary.bin")), false, false),
            _ => (new Uri(endpoints.JaegerGrpc, Receivers.Jaeger.Grpc.JaegerGrpcReceiver.PostSpansPath), "application/grpc",
                mutator is null ? Frame(FuzzSeeds.JaegerProto(trace)) : mutator.GrpcFrame(Body(FuzzSeeds.JaegerProto(trace))), true, false),
        };
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        if (grpc)
        {
            request.Version = HttpVersion.Version20;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
            request.Headers.TryAddWithoutValidation("te", "trailers");
        }

        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (!grpc || response.StatusCode != HttpStatusCode.OK)
            {
                return $"http {(int)response.StatusCode}";
            }

            var status = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.First()
                : response.Headers.TryGetValues("grpc-status", out var header) ? header.First() : "missing";
            return $"grpc {status}";
        }
        catch (HttpRequestException e)
        {
            return $"transport {e.HttpRequestError}";
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "timeout";
        }
    }

    private static async Task ReportProgressAsync(Func<int> sent, int requests, ConcurrentDictionary<string, int> answers, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        using var timer = new PeriodicTimer(s_progressEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var done = sent();
                var errors = new FuzzSummary(done, new SortedDictionary<string, int>(answers, StringComparer.Ordinal), 0, 0).ServerErrors;
                await Console.Error.WriteLineAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"fuzz: {done:N0} of {requests:N0} requests ({done / started.Elapsed.TotalSeconds:N0}/s), server errors so far: {errors}"));
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    /// <summary>Mostly a small valid payload; one time in 25 a hostile shape (100k attributes, nesting 200 deep) to mutate.</summary>
    private static byte[] Seed(string format, TraceId trace, Mutator? mutator) => (format, mutator?.Next(50)) switch
    {
        ("otlp-json", 0) => FuzzSeeds.OtlpJsonWide(trace, 100_000),
        ("otlp-json", 1) => FuzzSeeds.OtlpJsonDeep(trace, 200),
        ("otlp-json", _) => FuzzSeeds.OtlpJson(trace),
        ("zipkin-json", 0) => FuzzSeeds.ZipkinJsonWide(trace, 100_000),
        ("zipkin-json", 1) => FuzzSeeds.ZipkinJsonDeep(200),
        ("zipkin-json", _) => FuzzSeeds.ZipkinJson(trace),
        (_, 0) => FuzzSeeds.OtlpProtobufWide(trace, 100_000),
        (_, 1) => FuzzSeeds.OtlpProtobufDeep(trace, 200),
        _ => FuzzSeeds.OtlpProtobuf(trace),
    };

    private static byte[] Gzip(byte[] payload, Mutator? mutator)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(payload);
        }

        // Damage the compressed bytes (corrupt gzip), not the payload inside.
        return mutator?.Mutate(buffer.ToArray()) ?? buffer.ToArray();
    }

    private static byte[] Frame(byte[] message)
    {
        var frame = new byte[5 + message.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame.AsSpan(5));
        return frame;
    }

    private static void Print(FuzzSummary summary, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
            return;
        }

        var table = new Table().AddColumns("channel and answer", "requests");
        foreach (var (answer, count) in summary.Answers)
        {
            table.AddRow(Markup.Escape(answer), count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{summary.Requests} requests; server errors (5xx but 503, gRPC UNKNOWN/INTERNAL): {summary.ServerErrors}; canaries acknowledged {summary.CanariesAcknowledged}, missing {summary.CanariesMissing}.");
        if (summary.ServerErrors > 0 || summary.CanariesMissing > 0)
        {
            AnsiConsole.MarkupLine("[red]The server failed: look in its log for the requests answered with a server error, and rerun with the same --seed to reproduce.[/]");
        }
    }
}

internal sealed record FuzzEndpoints(Uri OtlpHttp, Uri OtlpGrpc, Uri Zipkin, Uri JaegerHttp, Uri JaegerGrpc, Uri Query);

internal sealed record FuzzSummary(int Requests, SortedDictionary<string, int> Answers, int CanariesAcknowledged, int CanariesMissing)
{
    /// <summary>5xx other than 503 (storage asking for a retry), and gRPC UNKNOWN (2) or INTERNAL (13).</summary>
    public int ServerErrors => Answers.Where(a => IsServerError(a.Key)).Sum(a => a.Value);

    private static bool IsServerError(string answer)
    {
        var status = answer[(answer.LastIndexOf(' ') + 1)..];
        return answer.Contains(" http 5", StringComparison.Ordinal) && status != "503"
            || answer.EndsWith(" grpc 2", StringComparison.Ordinal) || answer.EndsWith(" grpc 13", StringComparison.Ordinal);
    }
}
