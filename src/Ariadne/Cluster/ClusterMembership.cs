using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Ariadne.Model;

namespace Ariadne.Cluster;

/// <summary>
/// Who is in the cluster and who owns a trace: the ring over the configured peers (a static list, or a DNS name
/// resolved again every <see cref="ClusterOptions.ResolveInterval"/>), and the peers skipped for a while because a
/// forward to them failed. A skipped peer's traces go to the next peers on the ring, as if it had left; it is tried
/// again after <see cref="ClusterOptions.PeerRetryInterval"/>. This node is never skipped.
/// </summary>
public sealed partial class ClusterMembership : BackgroundService
{
    private readonly ClusterOptions _options;
    private readonly ILogger<ClusterMembership> _logger;
    private readonly ConcurrentDictionary<string, long> _skippedUntil = new(StringComparer.Ordinal);
    private readonly Func<string, bool> _usable;
    private volatile HashRing _ring;

    public ClusterMembership(ClusterOptions options, ILogger<ClusterMembership> logger)
    {
        _options = options;
        _logger = logger;
        _usable = IsUsable;
        List<string> peers;
        try
        {
            peers = options.UsesDns ? Resolve(options) : options.StaticPeers().ToList();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new Configuration.ConfigurationException($"Cluster:Peers: '{options.Peers}' does not resolve ({e.Message}); check the DNS name, or list the peers as host:port.");
        }

        Self = options.FindSelf(peers) ?? throw new Configuration.ConfigurationException(
            $"Cluster:Self: this node is not recognisable among Cluster:Peers ({string.Join(", ", peers)}); set Cluster:Self (--cluster-self) to its entry.");
        _ring = new HashRing(peers.Append(Self));
    }

    /// <summary>This node's entry in the peer list.</summary>
    public string Self { get; }

    public HashRing Ring => _ring;

    /// <summary>The peer that takes the trace now: its owner on the ring, or the next one up when the owner is skipped.</summary>
    public string Route(TraceId traceId) => _ring.OwnerAmong(traceId, _usable) ?? Self;

    /// <summary>
    /// The peers that take traces now (this node and every peer not skipped): each owns about that fraction of the
    /// traces, so a figure counted from this node's share times this estimates the cluster's.
    /// </summary>
    public int LiveMembers => _ring.Peers.Count(p => p == Self || !IsSkipped(p));

    public bool IsSkipped(string peer) => _skippedUntil.TryGetValue(peer, out var until) && Stopwatch.GetTimestamp() < until;

    /// <summary>Skips a peer that could not be reached, for <see cref="ClusterOptions.PeerRetryInterval"/>.</summary>
    public void Skip(string peer, string reason)
    {
        var until = Stopwatch.GetTimestamp() + (long)(_options.PeerRetryInterval.TotalSeconds * Stopwatch.Frequency);
        if (!IsSkipped(peer))
        {
            LogPeerSkipped(_logger, peer, reason, _options.PeerRetryInterval.TotalSeconds);
        }

        _skippedUntil[peer] = until;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.UsesDns)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.ResolveInterval);
        while (await NextTickAsync(timer, stoppingToken))
        {
            try
            {
                var peers = Resolve(_options);
                if (!peers.Append(Self).Distinct().Order(StringComparer.Ordinal).SequenceEqual(_ring.Peers))
                {
                    _ring = new HashRing(peers.Append(Self));
                    LogRingChanged(_logger, string.Join(", ", _ring.Peers));
                }
            }
            catch (System.Net.Sockets.SocketException e)
            {
                // The last ring stays: a DNS outage must not move traces.
                LogResolveFailed(_logger, _options.Peers, e.Message);
            }
        }
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private bool IsUsable(string peer) => peer == Self || !IsSkipped(peer);

    private static List<string> Resolve(ClusterOptions options)
    {
        var (name, port) = options.DnsName();
        return Dns.GetHostAddresses(name)
            .Select(a => ClusterOptions.Normalize(a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{a}]:{port}" : $"{a}:{port}"))
            .Distinct()
            .ToList();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster: peer {Peer} could not be reached ({Reason}); its traces go to the next nodes on the ring for {Seconds} s, then it is tried again. Check that it runs and that its internal port is reachable.")]
    private static partial void LogPeerSkipped(ILogger logger, string peer, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster: the ring is now {Peers}.")]
    private static partial void LogRingChanged(ILogger logger, string peers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster: resolving {Peers} failed ({Reason}); the ring stays as it was. Check the DNS name.")]
    private static partial void LogResolveFailed(ILogger logger, string peers, string reason);
}
