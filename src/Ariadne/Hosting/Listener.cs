namespace Ariadne.Hosting;

/// <summary>The server's listeners. Each endpoint answers only on the listener it belongs to.</summary>
public enum Listener
{
    OtlpGrpc,
    OtlpHttp,
    Zipkin,
    Query,
    Sampling,
}
