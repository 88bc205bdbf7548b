namespace Ariadne.Hosting;

/// <summary>The server's listeners. Each endpoint answers only on the listener it belongs to.</summary>
public enum Listener
{
    OtlpGrpc,
    OtlpHttp,
    Zipkin,
    Query,
    Sampling,

    /// <summary>Jaeger's collector: Thrift over HTTP, <c>POST /api/traces</c>.</summary>
    JaegerThriftHttp,

    /// <summary>Jaeger's collector gRPC service (<c>PostSpans</c>), HTTP/2.</summary>
    JaegerGrpc,

    /// <summary>Tempo's HTTP API (<c>/api/search</c>, <c>/api/v2/traces/{id}</c>, ...), which the query listener serves too.</summary>
    Tempo,

    /// <summary>Cluster mode's internal OTLP/gRPC port, where other nodes forward the spans of traces this node owns.</summary>
    Cluster,
}

public static class ListenerExtensions
{
    /// <summary>Listeners that serve gRPC (HTTP/2, gRPC framing, refusals as grpc-status).</summary>
    public static bool IsGrpc(this Listener listener) => listener is Listener.OtlpGrpc or Listener.JaegerGrpc or Listener.Cluster;
}
