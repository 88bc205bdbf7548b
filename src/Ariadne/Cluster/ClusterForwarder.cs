using System.Collections.Concurrent;
using Ariadne.Model;
using Ariadne.Operations;
using Ariadne.Pipeline;
using Ariadne.Query;
using Ariadne.Tenancy;
using Grpc.Core;
using Grpc.Net.Client;
using Prometheus;
using StatusCode = Grpc.Core.StatusCode;

namespace Ariadne.Cluster;

/// <summary>
/// The routing step of cluster mode, run by <see cref="IngestPipeline"/> on every accepted batch: the spans of
/// traces this node owns stay; the others are sent, one OTLP/gRPC Export per owner, to the owners' internal ports,
/// where they enter the owner's pipeline as forwarded traffic (protocol <see cref="Protocol"/>), which is never
/// routed again. The client is answered only once every owner has answered, and an owner answers once the spans
/// are in its ingest log (fsynced), so what a client has been acknowledged is on the disk of the node that owns it.
/// <para>
/// An owner that cannot be reached (refused connection, reset, no answer within
/// <see cref="ClusterOptions.ForwardTimeout"/>) is skipped for a while (<see cref="ClusterMembership.Skip"/>) and its
/// spans go to the next nodes on the ring, this node included, in the same request. An owner that answers
/// UNAVAILABLE (its storage is behind) is not skipped: the client is answered UNAVAILABLE / 503 with its retry
/// advice, as this node would answer for its own backlog.
/// </para>
/// </summary>
public sealed partial class ClusterForwarder : IDisposable
{
    /// <summary>The protocol label of forwarded spans (metrics, and the mark that they are not routed again).</summary>
    public const string Protocol = "cluster";

    /// <summary>The header naming the node a forward comes from.</summary>
    public const string ForwardedByHeader = "x-ariadne-forwarded-by";

    private static readonly Method<byte[], byte[]> s_export = new(
        MethodType.Unary,
        "opentelemetry.proto.collector.trace.v1.TraceService",
        "Export",
        Marshallers.Create(static request => request, static bytes => bytes),
        Marshallers.Create(static response => response, static bytes => bytes));

    private readonly ClusterMembership _membership;
    private readonly ClusterOptions _options;
    private readonly string _tenantHeader;
    private readonly ILogger<ClusterForwarder> _logger;
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private readonly Counter _forwardedSpans;
    private readonly Counter _failures;
    private readonly Counter _handedOn;
    private readonly Gauge _peerUp;

    public ClusterForwarder(ClusterMembership membership, ClusterOptions options, TenantResolver tenants, CollectorRegistry registry, ILogger<ClusterForwarder> logger)
    {
        _membership = membership;
        _options = options;
        _tenantHeader = tenants.HeaderName;
        _logger = logger;
        var factory = ServerMetrics.Factory(registry);
        _forwardedSpans = factory.CreateCounter("ariadne_cluster_forwarded_spans_total", "Spans sent to the node that owns their trace and acknowledged by it.", ["peer"]);
        _failures = factory.CreateCounter("ariadne_cluster_forward_failures_total", "Forwards that failed: reason unreachable (refused, reset, timeout: the peer is skipped for Cluster:PeerRetryInterval) or unavailable (the peer's storage is behind: the client is told to retry).", ["peer", "reason"]);
        _handedOn = factory.CreateCounter("ariadne_cluster_handed_on_spans_total", "Spans whose owner could not be reached, taken by the next node on the ring instead (the peer label names the owner).", ["peer"]);
        _peerUp = factory.CreateGauge("ariadne_cluster_peer_up", "1 while forwards to the peer succeed, 0 while it is skipped after a failure.", ["peer"]);
        _peerUp.WithLabels(membership.Self).Set(1);
    }

    public string Self => _membership.Self;

    /// <summary>
    /// Removes from <paramref name="spans"/> those whose trace another node takes, and returns them grouped by that
    /// node; null when this node takes them all.
    /// </summary>
    public Dictionary<string, List<Span>>? TakeForeign(List<Span> spans)
    {
        Dictionary<string, List<Span>>? foreign = null;
        var write = 0;
        for (var read = 0; read < spans.Count; read++)
        {
            var span = spans[read];
            var owner = _membership.Route(span.TraceId);
            if (owner == _membership.Self)
            {
                spans[write++] = span;
                continue;
            }

            foreign ??= new Dictionary<string, List<Span>>(StringComparer.Ordinal);
            if (!foreign.TryGetValue(owner, out var group))
            {
                foreign[owner] = group = [];
            }

            group.Add(span);
        }

        spans.RemoveRange(write, spans.Count - write);
        return foreign;
    }

    /// <summary>
    /// Sends each group to its owner and waits for every answer. Groups whose owner cannot be reached are routed
    /// again without it; what then falls to this node is returned in <see cref="ForwardOutcome.Local"/> for the
    /// caller to take. <see cref="ForwardOutcome.Unavailable"/> is set when an owner refused for now (the client must retry).
    /// </summary>
    public async Task<ForwardOutcome> ForwardAsync(string tenant, Dictionary<string, List<Span>> groups, CancellationToken cancellationToken)
    {
        List<Span>? local = null;
        IngestUnavailable? unavailable = null;
        var pending = groups;

        // Each round skips at least one more peer, so the rounds end once every other peer is skipped (all to this node).
        for (var round = 0; pending.Count > 0 && round <= _membership.Ring.Peers.Count; round++)
        {
            var sends = pending.Select(group => SendAsync(tenant, group.Key, group.Value, cancellationToken)).ToArray();
            var results = await Task.WhenAll(sends);
            var unreachable = new List<Span>();
            for (var i = 0; i < results.Length; i++)
            {
                switch (results[i])
                {
                    case SendResult.Unreachable:
                        unreachable.AddRange(pending.ElementAt(i).Value);
                        break;
                    case SendResult.Unavailable:
                        unavailable ??= new IngestUnavailable(TimeSpan.FromSeconds(1),
                            $"node {pending.ElementAt(i).Key}, which owns some of these traces, cannot take spans right now; send the request again after the retry delay.");
                        break;
                }
            }

            pending = unreachable.Count == 0 ? [] : TakeForeign(unreachable) ?? [];
            if (unreachable.Count > 0)
            {
                (local ??= []).AddRange(unreachable);
            }
        }

        return new ForwardOutcome(local, unavailable);
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }

    private async Task<SendResult> SendAsync(string tenant, string peer, List<Span> spans, CancellationToken cancellationToken)
    {
        var channel = _channels.GetOrAdd(peer, static p => GrpcChannel.ForAddress($"http://{p}", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, ConnectTimeout = TimeSpan.FromSeconds(2) },
            MaxReceiveMessageSize = 1024 * 1024,
        }));
        var headers = new Metadata { { _tenantHeader, tenant }, { ForwardedByHeader, _membership.Self } };
        var request = OtlpProtobufWriter.WriteTracesData(spans);
        try
        {
            await channel.CreateCallInvoker().AsyncUnaryCall(s_export, null,
                new CallOptions(headers, DateTime.UtcNow + _options.ForwardTimeout, cancellationToken), request);
            _forwardedSpans.WithLabels(peer).Inc(spans.Count);
            _peerUp.WithLabels(peer).Set(1);
            return SendResult.Accepted;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.ResourceExhausted && e.Status.DebugException is null)
        {
            // The peer answered: it is up, and its storage is behind.
            _failures.WithLabels(peer, "unavailable").Inc();
            return SendResult.Unavailable;
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested && e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown)
        {
            _failures.WithLabels(peer, "unreachable").Inc();
            _handedOn.WithLabels(peer).Inc(spans.Count);
            _peerUp.WithLabels(peer).Set(0);
            _membership.Skip(peer, e.Status.DebugException?.Message ?? e.Status.Detail);
            return SendResult.Unreachable;
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Any other status is a disagreement between versions or configurations (a tenant the peer does not know):
            // retrying elsewhere would hide it, so the client is told to retry and the log says why.
            _failures.WithLabels(peer, "refused").Inc();
            LogForwardRefused(_logger, peer, e.StatusCode.ToString(), e.Status.Detail);
            return SendResult.Unavailable;
        }
    }

    private enum SendResult
    {
        Accepted,
        Unreachable,
        Unavailable,
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Cluster: peer {Peer} refused forwarded spans with {Status} ({Detail}); clients are told to retry. Check that every node runs the same version and configuration (tenants, limits).")]
    private static partial void LogForwardRefused(ILogger logger, string peer, string status, string detail);
}

/// <summary>What a forward left to do: spans that fell to this node, and whether the client must retry.</summary>
public readonly record struct ForwardOutcome(List<Span>? Local, IngestUnavailable? Unavailable);
