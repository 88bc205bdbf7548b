using System.Net.Http.Headers;
using Ariadne.Model;
using Ariadne.Query;
using Ariadne.Tests.Infrastructure;

namespace Ariadne.Tests.Cluster;

/// <summary>
/// A client that sends each trace's spans to all nodes (span i to node i mod N, rotated per trace), as the services
/// of a real system each export to whichever node their load balancer picks. Like an OTLP exporter it retries a part
/// that failed (503, refused connection) with backoff, here on the next node, as a load balancer would. A trace is
/// acknowledged once every part is.
/// </summary>
internal sealed class SpreadingClient(IReadOnlyList<Func<Uri?>> nodes) : IDisposable
{
    public const int SpansPerTrace = 6;

    private static readonly MediaTypeHeaderValue s_protobuf = new("application/x-protobuf");
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };

    /// <summary>A trace of <see cref="SpansPerTrace"/> spans over six services; the root carries customer.tier, and fails when <paramref name="failed"/>.</summary>
    public static List<Span> Trace(string tier, bool failed = false)
    {
        var id = TestSpans.NewTraceId();
        var start = DateTimeOffset.UtcNow.AddSeconds(-1);
        var spans = new List<Span>
        {
            TestSpans.Create(TestSpans.Resource("frontend"), id, 1, "GET /checkout", start, TimeSpan.FromMilliseconds(50), SpanKind.Server,
                status: failed ? StatusCode.Error : StatusCode.Unset, attributes: [KeyValue.String("customer.tier", tier)]),
        };
        for (var i = 2; i <= SpansPerTrace; i++)
        {
            spans.Add(TestSpans.Create(TestSpans.Resource($"service-{i}"), id, (ulong)i, $"step {i}", start.AddMilliseconds(i), TimeSpan.FromMilliseconds(10),
                SpanKind.Server, parentSpanId: 1));
        }

        return spans;
    }

    /// <returns>Whether every part was acknowledged.</returns>
    public async Task<bool> SendAsync(List<Span> trace, int rotation, CancellationToken cancellationToken)
    {
        var parts = trace.Select((span, i) => (span, i)).GroupBy(s => s.i % nodes.Count, s => s.span);
        var sent = await Task.WhenAll(parts.Select(part => SendPartAsync(part.ToList(), (part.Key + rotation) % nodes.Count, cancellationToken)));
        return sent.All(ok => ok);
    }

    private async Task<bool> SendPartAsync(List<Span> spans, int first, CancellationToken cancellationToken)
    {
        var body = OtlpProtobufWriter.WriteTracesData(spans);
        for (var attempt = 0; attempt < 20 && !cancellationToken.IsCancellationRequested; attempt++)
        {
            if (nodes[(first + attempt) % nodes.Count]() is { } node)
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = s_protobuf;
                try
                {
                    using var response = await _http.PostAsync(new Uri(node, "/v1/traces"), content, cancellationToken);
                    if (response.IsSuccessStatusCode)
                    {
                        return true;
                    }
                }
                catch (HttpRequestException)
                {
                    // The node is down or went down during the request: nothing was acknowledged, so send again.
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Timed out: not acknowledged either.
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(500, 25 << Math.Min(attempt, 5))), CancellationToken.None);
        }

        return false;
    }

    public void Dispose() => _http.Dispose();
}
