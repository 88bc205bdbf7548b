using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Ariadne.Cluster;
using Ariadne.Model;
using Ariadne.Pipeline;
using Ariadne.Receivers.Otlp;
using Ariadne.Receivers.Otlp.Json;
using Ariadne.Storage;
using Ariadne.Tenancy;

namespace Ariadne.Query.Regions;

/// <summary>
/// Trace reads across regions (ADR-026, "Regions"): each region is its own cluster with its own store, and a read on
/// any node answers from this region's store plus the other regions' query APIs (<c>--region-peers</c>), asked through
/// Jaeger's api_v3 (<c>/api/v3/traces</c>, OTLP/JSON, so the spans come back whole) with <see cref="HopHeader"/> so
/// that they do not fan out again. A trace's spans from every region are merged, one per span id as the stores keep
/// them. A region that does not answer within <see cref="ClusterOptions.RegionTimeout"/> is left out and named in
/// the request's <see cref="RegionReadScope"/>: a partial result, marked.
/// </summary>
public sealed class RegionFederation(ISpanStore store, ClusterOptions options, TenantResolver tenants, ILogger<RegionFederation> log) : IDisposable
{
    /// <summary>Marks a read sent by another region's federation: the receiving node reads its own region only.</summary>
    public const string HopHeader = "X-Ariadne-Region-Hop";

    // Several traces of a search are filled in from one region at once, but not hundreds.
    private const int ParallelReadsPerRegion = 8;

    private readonly IReadOnlyList<(string Name, Uri Query)> _regions = options.RegionPeerList();
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>The other regions are asked: some are configured and this read did not come from one of them (UI circuits read outside a request, with no scope).</summary>
    private bool Federating => _regions.Count > 0 && RegionReadScope.Current?.LocalOnly != true;

    /// <summary>A trace's spans from every region, unordered; empty when no region stores any.</summary>
    public async Task<IReadOnlyList<Span>> GetTraceAsync(string tenant, TraceId traceId, CancellationToken cancellationToken)
    {
        var local = store.GetTraceAsync(tenant, traceId, cancellationToken);
        if (!Federating)
        {
            return await local;
        }

        var remote = await Task.WhenAll(_regions.Select(r => ReadTraceAsync(r, tenant, traceId, cancellationToken)));
        return Merge([await local, .. remote]);
    }

    /// <summary>
    /// Traces matching a Jaeger-style query in any region, latest first, at most <see cref="TraceQuery.Limit"/>, each
    /// whole: a trace one region matched is completed with its spans in the regions that did not match it.
    /// </summary>
    public async Task<IReadOnlyList<IReadOnlyList<Span>>> FindTracesAsync(string tenant, TraceQuery query, CancellationToken cancellationToken)
    {
        var local = store.FindTracesAsync(tenant, query, cancellationToken);
        if (!Federating)
        {
            return await local;
        }

        var remote = await Task.WhenAll(_regions.Select(r => SearchAsync(r, tenant, query, cancellationToken)));
        var found = new[] { await local }.Concat(remote).ToList();

        // found[0] is this region; found[i] the region _regions[i - 1]. A trace any of them matched, latest first.
        var matched = found.SelectMany(traces => traces)
            .GroupBy(t => t[0].TraceId)
            .Select(g => (TraceId: g.Key, Start: g.Min(t => t.Min(s => s.StartTimeUnixNano))))
            .OrderByDescending(t => t.Start)
            .Take(query.Limit)
            .ToList();
        var byRegion = found.Select(traces => traces.ToDictionary(t => t[0].TraceId)).ToList();

        // Complete each trace from the regions whose search did not return it (their part did not match by itself).
        var absent = byRegion.Select(r => matched.Select(t => t.TraceId).Where(id => !r.ContainsKey(id)).ToList()).ToList();
        var fills = new List<Task<IReadOnlyList<(int Region, TraceId TraceId, IReadOnlyList<Span> Spans)>>>
        {
            ReadEachAsync(0, absent[0], async id => await store.GetTraceAsync(tenant, id, cancellationToken), cancellationToken),
        };
        fills.AddRange(_regions.Select((region, i) =>
            ReadEachAsync(i + 1, absent[i + 1], id => ReadTraceAsync(region, tenant, id, cancellationToken), cancellationToken)));
        foreach (var (region, traceId, spans) in (await Task.WhenAll(fills)).SelectMany(f => f))
        {
            byRegion[region][traceId] = spans;
        }

        return matched.Select(t => Merge(byRegion.Select(r => r.TryGetValue(t.TraceId, out var spans) ? spans : []).ToList())).ToList();
    }

    public void Dispose() => _http.Dispose();

    /// <summary>One span per span id, the first region's copy first (this region's).</summary>
    private static IReadOnlyList<Span> Merge(IReadOnlyList<IReadOnlyList<Span>> parts) =>
        parts.SelectMany(p => p).DistinctBy(s => s.SpanId).ToList();

    private static async Task<IReadOnlyList<(int Region, TraceId TraceId, IReadOnlyList<Span> Spans)>> ReadEachAsync(
        int region, IReadOnlyList<TraceId> traceIds, Func<TraceId, Task<IReadOnlyList<Span>>> read, CancellationToken cancellationToken)
    {
        var found = new System.Collections.Concurrent.ConcurrentBag<(int, TraceId, IReadOnlyList<Span>)>();
        await Parallel.ForEachAsync(traceIds, new ParallelOptions { MaxDegreeOfParallelism = ParallelReadsPerRegion, CancellationToken = cancellationToken },
            async (traceId, _) =>
            {
                if (await read(traceId) is { Count: > 0 } spans)
                {
                    found.Add((region, traceId, spans));
                }
            });
        return found.ToList();
    }

    private Task<IReadOnlyList<Span>> ReadTraceAsync((string Name, Uri Query) region, string tenant, TraceId traceId, CancellationToken cancellationToken) =>
        GetSpansAsync(region, tenant, $"api/v3/traces/{traceId.ToHex()}?raw_traces=true", cancellationToken);

    private async Task<IReadOnlyList<IReadOnlyList<Span>>> SearchAsync((string Name, Uri Query) region, string tenant, TraceQuery query, CancellationToken cancellationToken)
    {
        var parameters = new List<(string Name, string Value)>
        {
            ("query.start_time_min", Rfc3339(query.StartTimeMin < DateTimeOffset.UnixEpoch ? DateTimeOffset.UnixEpoch : query.StartTimeMin)),
            ("query.start_time_max", Rfc3339(query.StartTimeMax)),
            ("query.num_traces", query.Limit.ToString(CultureInfo.InvariantCulture)),
            ("query.raw_traces", "true"),
        };
        if (!string.IsNullOrEmpty(query.ServiceName))
        {
            parameters.Add(("query.service_name", query.ServiceName));
        }

        if (!string.IsNullOrEmpty(query.OperationName))
        {
            parameters.Add(("query.operation_name", query.OperationName));
        }

        if (query.Tags.Count > 0)
        {
            parameters.Add(("query.attributes", TagsJson(query.Tags)));
        }

        if (query.MinDuration is { } min)
        {
            parameters.Add(("query.duration_min", GoNanoseconds(min)));
        }

        if (query.MaxDuration is { } max)
        {
            parameters.Add(("query.duration_max", GoNanoseconds(max)));
        }

        var spans = await GetSpansAsync(region, tenant, "api/v3/traces?" + string.Join("&", parameters.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value)}")), cancellationToken);
        return spans.GroupBy(s => s.TraceId).Select(g => (IReadOnlyList<Span>)g.ToList()).ToList();

        static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

        static string GoNanoseconds(TimeSpan duration) => (duration.Ticks * 100).ToString(CultureInfo.InvariantCulture) + "ns";
    }

    private static string TagsJson(IReadOnlyDictionary<string, string> tags)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in tags)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The spans a region's api_v3 answers with; none when it has none (404) or when it does not answer, which the read's scope then records.</summary>
    private async Task<IReadOnlyList<Span>> GetSpansAsync((string Name, Uri Query) region, string tenant, string relative, CancellationToken cancellationToken)
    {
        var scope = RegionReadScope.Current;
        if (scope?.IsUnreachable(region.Name) == true)
        {
            // One timeout per region and request: the traces of a search do not wait for it again.
            return [];
        }

        string reason;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RegionTimeout);
        try
        {
            var baseUri = region.Query.AbsoluteUri.EndsWith('/') ? region.Query : new Uri(region.Query.AbsoluteUri + "/");
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, relative));
            request.Headers.Add(HopHeader, options.Region.Length > 0 ? options.Region : "unnamed");
            request.Headers.Add(tenants.HeaderName, tenant);
            using var response = await _http.SendAsync(request, timeout.Token);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return [];
            }

            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                return Decode(body);
            }

            reason = $"its query API answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 200)))}";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            reason = $"no answer from {region.Query} within {options.RegionTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (Cluster:RegionTimeout)";
        }
        catch (HttpRequestException e)
        {
            reason = $"{region.Query}: {e.Message}";
        }
        catch (Exception e) when (e is JsonException or OtlpMalformedException)
        {
            reason = $"{region.Query} did not answer with api_v3 OTLP/JSON ({e.Message}); is it an Ariadne query port?";
        }

        log.LogWarning("Region {Region} left out of a read: {Reason}", region.Name, reason);
        scope?.ReportUnreachable(region.Name, reason);
        return [];
    }

    private static List<Span> Decode(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        if (!document.RootElement.TryGetProperty("result", out var result))
        {
            throw new JsonException("the answer has no 'result' field");
        }

        var batch = new SpanBatch();
        OtlpJsonTraceDecoder.Decode(Encoding.UTF8.GetBytes(result.GetRawText()), batch);
        return batch.Spans;
    }
}
