using System.Net;

namespace Ariadne.Cluster;

/// <summary>
/// Cluster mode (<c>--cluster-peers</c>), bound from the <c>Cluster</c> section: several nodes share one ClickHouse,
/// and each trace is owned by one node (<see cref="HashRing"/>), whose tail sampler sees all of its spans.
/// Off while <see cref="Peers"/> is empty.
/// </summary>
public sealed class ClusterOptions
{
    public const string DnsPrefix = "dns:";

    /// <summary>
    /// Every node's internal address, host:port, comma-separated, this node's included, the same list on every
    /// node; or <c>dns:NAME:PORT</c>, the A/AAAA records of NAME (a headless service), re-resolved every
    /// <see cref="ResolveInterval"/>.
    /// </summary>
    public string Peers { get; set; } = string.Empty;

    /// <summary>
    /// This node as it appears in <see cref="Peers"/>. Default: the one peer whose port is <see cref="InternalPort"/>
    /// and whose host is this machine (its name or one of its addresses).
    /// </summary>
    public string? Self { get; set; }

    /// <summary>The internal OTLP/gRPC port that other nodes forward spans to; loopback or a private network only.</summary>
    public int InternalPort { get; set; } = 4319;

    /// <summary>How often a <c>dns:</c> peer name is resolved again.</summary>
    public TimeSpan ResolveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a forward may take before the owner counts as down (its traces then go to the next node).</summary>
    public TimeSpan ForwardTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a peer that could not be reached is skipped before it is tried again.</summary>
    public TimeSpan PeerRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>This node's region (<c>--region</c>): the name other regions list it under; shown in partial-result errors.</summary>
    public string Region { get; set; } = string.Empty;

    /// <summary>
    /// The other regions' query endpoints, <c>name=http://host:16686</c>, comma-separated (<c>--region-peers</c>): trace
    /// reads and searches on this node also ask them (federated reads, ADR-026 "Regions"). Empty: this region only.
    /// </summary>
    public string RegionPeers { get; set; } = string.Empty;

    /// <summary>How long a read waits for another region before answering without it (a partial result, marked).</summary>
    public TimeSpan RegionTimeout { get; set; } = TimeSpan.FromSeconds(2);

    public bool Enabled => !string.IsNullOrWhiteSpace(Peers);

    /// <summary>The other regions, by name, as <see cref="RegionPeers"/> lists them; entries that do not parse are left out (<see cref="Validate"/> names them).</summary>
    public IReadOnlyList<(string Name, Uri Query)> RegionPeerList() =>
        RegionPeers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(entry => (Ok: TrySplitRegion(entry, out var name, out var query), Name: name, Query: query))
            .Where(peer => peer.Ok)
            .Select(peer => (peer.Name, peer.Query))
            .ToList();

    private static bool TrySplitRegion(string entry, out string name, out Uri query)
    {
        var equals = entry.IndexOf('=', StringComparison.Ordinal);
        name = equals > 0 ? entry[..equals].Trim() : string.Empty;
        if (name.Length > 0 && Uri.TryCreate(entry[(equals + 1)..].Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            query = uri;
            return true;
        }

        query = null!;
        return false;
    }

    public bool UsesDns => Peers.Trim().StartsWith(DnsPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>The static list, normalised (trimmed, lower-case host); empty for a <c>dns:</c> name.</summary>
    public IReadOnlyList<string> StaticPeers() => UsesDns
        ? []
        : Peers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Normalize).Distinct().ToList();

    /// <summary>The name and port of a <c>dns:NAME:PORT</c> peer setting.</summary>
    public (string Name, int Port) DnsName()
    {
        var value = Peers.Trim()[DnsPrefix.Length..];
        var colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value[(colon + 1)..], out var port) ? (value[..colon], port) : (value, InternalPort);
    }

    public static string Normalize(string peer) => peer.Trim().ToLowerInvariant();

    public void Validate(List<string> errors)
    {
        if (InternalPort is < 0 or > 65535)
        {
            errors.Add($"Cluster:InternalPort: {InternalPort} is not a TCP port; use 1-65535 (default 4319).");
        }

        foreach (var entry in RegionPeers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TrySplitRegion(entry, out var name, out _))
            {
                errors.Add($"Cluster:RegionPeers: '{entry}' must be name=http://host:port, such as eu=http://ariadne-eu:16686 (the other region's query port).");
            }
            else if (string.Equals(name, Region, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"Cluster:RegionPeers: '{entry}' names this node's own region ({Region}); list only the other regions.");
            }
        }

        if (RegionTimeout < TimeSpan.FromMilliseconds(100) || RegionTimeout > TimeSpan.FromSeconds(60))
        {
            errors.Add($"Cluster:RegionTimeout: {RegionTimeout} must be between 00:00:00.1 and 00:01:00 (default 00:00:02).");
        }

        if (!Enabled)
        {
            return;
        }

        if (UsesDns)
        {
            var (name, port) = DnsName();
            if (name.Length == 0 || port is < 1 or > 65535)
            {
                errors.Add($"Cluster:Peers: '{Peers}' must be dns:NAME:PORT, such as dns:ariadne-headless:4319.");
            }
        }
        else
        {
            foreach (var peer in StaticPeers())
            {
                if (!TrySplit(peer, out _, out _))
                {
                    errors.Add($"Cluster:Peers: '{peer}' must be host:port, such as 10.0.0.5:4319 (or the whole value dns:NAME:PORT).");
                }
            }

            if (Self is { } self && !StaticPeers().Contains(Normalize(self)))
            {
                errors.Add($"Cluster:Self: '{self}' is not in Cluster:Peers ({Peers}); give this node's entry exactly as the list spells it.");
            }
        }

        if (ResolveInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"Cluster:ResolveInterval: {ResolveInterval} must be at least 00:00:01 (default 00:00:30).");
        }

        if (ForwardTimeout < TimeSpan.FromMilliseconds(100) || ForwardTimeout > TimeSpan.FromSeconds(30))
        {
            errors.Add($"Cluster:ForwardTimeout: {ForwardTimeout} must be between 00:00:00.1 and 00:00:30 (default 00:00:05); exporters time out after 10 s.");
        }

        if (PeerRetryInterval < TimeSpan.FromMilliseconds(100))
        {
            errors.Add($"Cluster:PeerRetryInterval: {PeerRetryInterval} must be at least 00:00:00.1 (default 00:00:05).");
        }
    }

    internal static bool TrySplit(string peer, out string host, out int port)
    {
        var colon = peer.LastIndexOf(':');
        host = colon > 0 ? peer[..colon].Trim('[', ']') : string.Empty;
        port = 0;
        return colon > 0 && int.TryParse(peer[(colon + 1)..], out port) && port is > 0 and <= 65535;
    }

    /// <summary>This node's entry among <paramref name="peers"/>: <see cref="Self"/>, or the one local peer on <see cref="InternalPort"/>.</summary>
    internal string? FindSelf(IReadOnlyList<string> peers)
    {
        if (Self is { } self)
        {
            return Normalize(self);
        }

        var local = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { Dns.GetHostName(), "localhost" };
        try
        {
            foreach (var address in Dns.GetHostAddresses(Dns.GetHostName()))
            {
                local.Add(address.ToString());
            }
        }
        catch (System.Net.Sockets.SocketException)
        {
            // The host name does not resolve: only the name itself and loopback identify this machine.
        }

        foreach (var address in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address))
        {
            local.Add(address.ToString());
        }

        var candidates = peers.Where(p => TrySplit(p, out var host, out var port) && port == InternalPort && local.Contains(host)).ToList();
        return candidates.Count == 1 ? candidates[0] : null;
    }
}
