using System.Net;
using System.Net.Sockets;
using Ariadne.Access;
using Ariadne.Limits;
using Ariadne.Receivers.Jaeger.Thrift;
using Ariadne.Tenancy;

namespace Ariadne.Receivers.Jaeger.Udp;

/// <summary>
/// One of the Jaeger agent's UDP ports: each datagram is one <c>emitBatch</c> call, Thrift compact (6831) or binary
/// (6832). UDP has no answer, so a datagram that cannot be taken is dropped and counted in
/// <c>ariadne_ingest_requests_failed_total{protocol="jaeger_thrift_compact|binary",reason=…}</c>, and logged at most once
/// per reason every 10 s. Spans go to the default tenant (a datagram has no headers), under the same limits as the HTTP
/// listeners: the tenant's rate, the server's memory bounds, and a turn among the ingest requests handled at once.
/// With bearer tokens configured (Auth:Tokens) every datagram is dropped: it cannot carry a token.
/// </summary>
internal sealed class JaegerUdpReceiver(
    int port,
    bool compact,
    string listenAddress,
    JaegerIngest ingest,
    TenantResolver tenants,
    TenantRateLimiter rates,
    IngestMemoryLimiter memory,
    IngestConcurrency concurrency,
    BearerTokens tokens,
    ILogger<JaegerUdpReceiver> logger) : BackgroundService
{
    // The largest UDP payload; Jaeger clients keep datagrams under 65000 bytes.
    private const int MaxDatagramBytes = 65_535;

    private readonly string _protocol = compact ? JaegerIngest.CompactProtocol : JaegerIngest.BinaryProtocol;
    private readonly string _tenant = tenants.Resolve(default, default)!;
    private Socket? _socket;

    /// <summary>The bound port (the configured one, or the one picked for 0 in tests that ask for it).</summary>
    public int Port => ((IPEndPoint)_socket!.LocalEndPoint!).Port;

    public bool IsCompact => compact;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Bound here, not in ExecuteAsync, so a port in use fails start-up with a message instead of a silent listener.
        var address = IPAddress.Parse(listenAddress);
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20 };
        try
        {
            _socket.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException e)
        {
            _socket.Dispose();
            var key = compact ? "--jaeger-compact-port (Ports:JaegerCompact)" : "--jaeger-binary-port (Ports:JaegerBinary)";
            throw new InvalidOperationException($"Cannot listen on UDP {listenAddress}:{port} for Jaeger Thrift {(compact ? "compact" : "binary")}: {e.Message}. Stop what holds it, or set {key} to another port or 0 to turn it off.", e);
        }

        if (tokens.Enabled)
        {
            logger.LogWarning("Jaeger UDP port {Port} drops every datagram: Auth:Tokens is set and a datagram cannot carry a bearer token. Send to the Jaeger HTTP (14268) or gRPC (14250) port with a token, or set the UDP port to 0.", Port);
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var buffer = new byte[MaxDatagramBytes];
        EndPoint any = new IPEndPoint(_socket!.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!stoppingToken.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException e)
            {
                // An ICMP error from an earlier send, or a datagram over the buffer: neither stops the port.
                ingest.RecordFailure(_protocol, "malformed", _tenant, $"the datagram could not be received: {e.Message}");
                continue;
            }

            if (Decode(buffer.AsSpan(0, received.ReceivedBytes)) is { } batch)
            {
                await StartIngestAsync(batch, received.ReceivedBytes, stoppingToken);
            }
        }
    }

    /// <summary>The datagram's spans, or null when it is dropped (counted and logged).</summary>
    private Pipeline.SpanBatch? Decode(ReadOnlySpan<byte> datagram)
    {
        if (Refusal(datagram.Length) is { } refusal)
        {
            ingest.RecordFailure(_protocol, refusal.Reason, _tenant, refusal.Message);
            return null;
        }

        // Decoded before the next receive reuses the buffer; the batch holds no reference to it.
        var (batch, problem) = JaegerIngest.Decode(datagram, proto: false, compact ? DecodeCompact : DecodeBinary);
        if (batch is null)
        {
            ingest.RecordFailure(_protocol, "malformed", _tenant, $"the datagram is not an Agent.emitBatch call in Thrift {(compact ? "compact" : "binary")}: {problem}");
        }

        return batch;
    }

    private async ValueTask StartIngestAsync(Pipeline.SpanBatch batch, int bytes, CancellationToken stoppingToken)
    {
        if (!memory.TryReserve(bytes))
        {
            ingest.RecordFailure(_protocol, "overloaded", _tenant, "the server is receiving more bytes of requests at once than Limits:MaxInFlightBytes");
            return;
        }

        try
        {
            await concurrency.EnterAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            memory.Release(bytes);
            return;
        }

        // Not awaited: the next datagram is read while this one waits for the ingest log's fsync, up to the
        // concurrency bound shared with the HTTP and gRPC listeners.
        _ = concurrency.RunAsync(() => IngestAsync(batch, bytes));
    }

    private async Task IngestAsync(Pipeline.SpanBatch batch, int bytes)
    {
        try
        {
            var result = await ingest.IngestAsync(_tenant, _protocol, batch, CancellationToken.None);
            if (result.Unavailable is { } unavailable)
            {
                ingest.RecordFailure(_protocol, "unavailable", _tenant, $"storage is unavailable: {unavailable.Message}");
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ingest.RecordFailure(_protocol, "unavailable", _tenant, $"the batch could not be stored: {e.Message}");
        }
        finally
        {
            concurrency.Exit();
            memory.Release(bytes);
        }
    }

    private (string Reason, string Message)? Refusal(int bytes)
    {
        if (tokens.Enabled)
        {
            return ("unauthenticated", "a datagram cannot carry a bearer token and Auth:Tokens is set; send to the Jaeger HTTP or gRPC port with a token");
        }

        if (!tenants.IsAllowed(_tenant))
        {
            return ("unknown_tenant", $"datagrams go to the default tenant '{_tenant}', which is not in Tenancy:Tenants; add it, or send over HTTP with a tenant header");
        }

        if (rates.TimeUntilAvailable(_tenant) > TimeSpan.Zero)
        {
            return ("rate_limited", $"tenant '{_tenant}' is over its ingest rate limit (IngestRateSpansPerSecond)");
        }

        return memory.IsHeapOverLimit()
            ? ("overloaded", $"the server's memory is over its bound (Limits:MaxHeapBytes / Limits:MaxHeapPercent); {bytes} bytes dropped")
            : null;
    }

    private static void DecodeCompact(ReadOnlySpan<byte> payload, JaegerSpanMapper mapper) => JaegerThriftDecoder.DecodeAgentMessage(payload, compact: true, mapper);

    private static void DecodeBinary(ReadOnlySpan<byte> payload, JaegerSpanMapper mapper) => JaegerThriftDecoder.DecodeAgentMessage(payload, compact: false, mapper);

    public override void Dispose()
    {
        _socket?.Dispose();
        base.Dispose();
    }
}
