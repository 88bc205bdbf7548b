using System.Text.Json;

namespace Ariadne.Tests.Demo;

/// <summary>One span of a trace as the Jaeger query API returns it, reduced to what the tests look at.</summary>
public sealed record JaegerSpan(string SpanId, string? ParentId, string Service, string Operation, IReadOnlyDictionary<string, JsonElement> Tags)
{
    public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value.ToString() : null;

    public string? Kind => Tag("span.kind");

    /// <summary>The RPC system under the current conventions' name, or the older one.</summary>
    public string? RpcSystem => Tag("rpc.system.name") ?? Tag("rpc.system");

    public bool IsError => Tag("error") is "True" or "true" || Tag("otel.status_code") == "ERROR";

    public override string ToString() => $"{Service}: {Operation} ({Kind})";
}

public static class JaegerTrace
{
    /// <summary>Reads <c>GET /api/traces/{id}</c>; empty when the trace is not (yet) there.</summary>
    public static async Task<IReadOnlyList<JaegerSpan>> GetAsync(HttpClient query, string traceId, CancellationToken cancellationToken)
    {
        using var response = await query.GetAsync($"/api/traces/{traceId}", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return [];
        }

        using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
        var spans = new List<JaegerSpan>();
        foreach (var trace in document.RootElement.GetProperty("data").EnumerateArray())
        {
            var processes = trace.GetProperty("processes").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetProperty("serviceName").GetString()!);
            foreach (var span in trace.GetProperty("spans").EnumerateArray())
            {
                var parent = span.TryGetProperty("references", out var references)
                    ? references.EnumerateArray().Where(r => r.GetProperty("refType").GetString() == "CHILD_OF").Select(r => r.GetProperty("spanID").GetString()).FirstOrDefault()
                    : null;
                var tags = span.GetProperty("tags").EnumerateArray().ToDictionary(t => t.GetProperty("key").GetString()!, t => t.GetProperty("value").Clone());
                spans.Add(new JaegerSpan(span.GetProperty("spanID").GetString()!, parent, processes[span.GetProperty("processID").GetString()!], span.GetProperty("operationName").GetString()!, tags));
            }
        }

        return spans;
    }

    /// <summary>
    /// Polls until the trace holds its root and a span of every service in <paramref name="services"/>: spans arrive
    /// over a second or so, and the root (the gateway's server span) ends last, after the response.
    /// </summary>
    public static async Task<IReadOnlyList<JaegerSpan>> WaitForAsync(HttpClient query, string traceId, IEnumerable<string> services, Func<IReadOnlyList<JaegerSpan>, bool>? complete = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var wanted = services.ToHashSet();
        IReadOnlyList<JaegerSpan> spans = [];
        while (!timeout.IsCancellationRequested)
        {
            spans = await GetAsync(query, traceId, timeout.Token);
            if (wanted.IsSubsetOf(spans.Select(s => s.Service)) && spans.Any(s => s.ParentId is null) && (complete is null || complete(spans)))
            {
                return spans;
            }

            await Task.Delay(200, timeout.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        throw new TimeoutException($"trace {traceId} did not get spans from {string.Join(", ", wanted)} within 60 s; it has: {string.Join("; ", spans)}");
    }
}
