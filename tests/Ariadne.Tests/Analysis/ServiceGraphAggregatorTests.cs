using Ariadne.Analysis;
using Ariadne.Model;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace Ariadne.Tests.Analysis;

/// <summary>Edges from client/server and producer/consumer halves that arrive apart, under Tempo's metric names.</summary>
public sealed class ServiceGraphAggregatorTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly ServiceGraphAggregator _graph;
    private ulong _nextId = 1;

    public ServiceGraphAggregatorTests() => _graph = new ServiceGraphAggregator(_registry, _time);

    [Fact]
    public async Task A_client_span_and_its_server_span_from_another_request_make_one_request_between_the_services()
    {
        var trace = new TraceId(1, _nextId++);
        var call = Make(trace, "web", SpanKind.Client, parent: 0, durationMs: 30);
        _graph.Observe("shop", [call]);
        Assert.Equal(1, _graph.Pending);
        _graph.Observe("shop", [Make(trace, "api", SpanKind.Server, parent: call.SpanId.Value, durationMs: 20, status: StatusCode.Error)]);

        var metrics = await ExportAsync();
        Assert.Contains("traces_service_graph_request_total{tenant=\"shop\",client=\"web\",server=\"api\",connection_type=\"\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("traces_service_graph_request_failed_total{tenant=\"shop\",client=\"web\",server=\"api\",connection_type=\"\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("traces_service_graph_request_server_seconds_bucket{tenant=\"shop\",client=\"web\",server=\"api\",connection_type=\"\",le=\"0.025\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("traces_service_graph_request_client_seconds_bucket{tenant=\"shop\",client=\"web\",server=\"api\",connection_type=\"\",le=\"0.025\"} 0", metrics, StringComparison.Ordinal);
        Assert.Equal(0, _graph.Pending);
    }

    [Fact]
    public async Task Producer_and_consumer_are_a_messaging_edge_and_a_database_call_an_edge_to_the_database()
    {
        var trace = new TraceId(2, _nextId++);
        var consumer = Make(trace, "notifications", SpanKind.Consumer, parent: 77, durationMs: 5);
        _graph.Observe("shop", [consumer]);
        _graph.Observe("shop", [Make(trace, "orders", SpanKind.Producer, parent: 0, durationMs: 1, id: 77)]);
        var query = Make(trace, "orders", SpanKind.Client, parent: 0, durationMs: 3);
        query.Attributes = [KeyValue.String("db.system.name", "postgresql"), KeyValue.String("db.namespace", "orders")];
        _graph.Observe("shop", [query]);

        var metrics = await ExportAsync();
        Assert.Contains("traces_service_graph_request_total{tenant=\"shop\",client=\"orders\",server=\"notifications\",connection_type=\"messaging_system\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("traces_service_graph_request_total{tenant=\"shop\",client=\"orders\",server=\"orders\",connection_type=\"database\"} 1", metrics, StringComparison.Ordinal);
        Assert.Equal(0, _graph.Pending);
    }

    [Fact]
    public async Task A_half_without_a_partner_counts_as_unpaired_after_the_wait()
    {
        _graph.Observe("shop", [Make(new TraceId(3, _nextId++), "web", SpanKind.Client, parent: 0, durationMs: 1)]);
        _time.Advance(ServiceGraphAggregator.Wait + TimeSpan.FromSeconds(1));
        _graph.Observe("shop", []);

        Assert.Equal(0, _graph.Pending);
        Assert.Contains("traces_service_graph_unpaired_spans_total{tenant=\"shop\",client=\"web\",server=\"\"} 1", await ExportAsync(), StringComparison.Ordinal);
    }

    private Span Make(TraceId trace, string service, SpanKind kind, ulong parent, long durationMs, StatusCode status = StatusCode.Unset, ulong id = 0)
    {
        var spanId = id == 0 ? _nextId++ : id;
        return new Span
        {
            TraceId = trace, SpanId = new SpanId(spanId), ParentSpanId = new SpanId(parent), Name = $"{service} {kind}", Kind = kind,
            Resource = new Resource { ServiceName = service }, StartTimeUnixNano = 1_000_000_000, EndTimeUnixNano = 1_000_000_000 + (durationMs * 1_000_000), StatusCode = status,
        };
    }

    private async Task<string> ExportAsync()
    {
        using var stream = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
