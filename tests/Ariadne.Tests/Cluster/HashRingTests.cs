using Ariadne.Cluster;
using Ariadne.Configuration;
using Ariadne.Model;

namespace Ariadne.Tests.Cluster;

public sealed class HashRingTests
{
    private static readonly string[] s_peers = ["10.0.0.1:4319", "10.0.0.2:4319", "10.0.0.3:4319"];

    private static IEnumerable<TraceId> Traces(int count)
    {
        var random = new Random(7);
        for (var i = 0; i < count; i++)
        {
            yield return new TraceId((ulong)random.NextInt64(), (ulong)random.NextInt64());
        }
    }

    [Fact]
    public void Every_node_builds_the_same_ring_whatever_the_order_of_its_peer_list()
    {
        var one = new HashRing(s_peers);
        var other = new HashRing(s_peers.Reverse());
        Assert.All(Traces(2000), id => Assert.Equal(one.Owner(id), other.Owner(id)));
    }

    [Fact]
    public void Each_of_three_peers_owns_about_a_third_of_the_traces()
    {
        var ring = new HashRing(s_peers);
        var shares = Traces(30_000).GroupBy(ring.Owner).ToDictionary(g => g.Key, g => g.Count() / 30_000.0);
        Assert.Equal(3, shares.Count);
        Assert.All(shares.Values, share => Assert.InRange(share, 0.25, 0.42));
    }

    [Fact]
    public void When_a_peer_leaves_only_its_traces_move_and_they_spread_over_the_others()
    {
        var before = new HashRing(s_peers);
        var after = new HashRing(s_peers.Where(p => p != s_peers[2]));
        var moved = new Dictionary<string, int>();
        foreach (var id in Traces(30_000))
        {
            var owner = before.Owner(id);
            if (owner == s_peers[2])
            {
                moved[after.Owner(id)] = moved.GetValueOrDefault(after.Owner(id)) + 1;
            }
            else
            {
                Assert.Equal(owner, after.Owner(id));
            }
        }

        Assert.Equal(2, moved.Count);
        Assert.All(moved.Values, count => Assert.InRange(count / (double)moved.Values.Sum(), 0.3, 0.7));
    }

    [Fact]
    public void A_skipped_peers_traces_go_where_they_would_go_if_it_had_left()
    {
        var ring = new HashRing(s_peers);
        var without = new HashRing(s_peers[..2]);
        Assert.All(Traces(5000), id => Assert.Equal(without.Owner(id), ring.OwnerAmong(id, peer => peer != s_peers[2])));
        Assert.Null(ring.OwnerAmong(default, _ => false));
    }

    [Fact]
    public void A_node_that_is_not_in_its_peer_list_is_refused_at_start_naming_Cluster_Self()
    {
        var options = new ClusterOptions { Peers = "192.0.2.10:4319,192.0.2.11:4319" };
        var error = Assert.Throws<ConfigurationException>(() => new ClusterMembership(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<ClusterMembership>.Instance));
        Assert.Contains("Cluster:Self", error.Message, StringComparison.Ordinal);

        options.Self = "192.0.2.11:4319";
        var membership = new ClusterMembership(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<ClusterMembership>.Instance);
        Assert.Equal("192.0.2.11:4319", membership.Self);
        membership.Skip("192.0.2.10:4319", "test");
        Assert.All(Traces(200), id => Assert.Equal(membership.Self, membership.Route(id)));
    }

    [Theory]
    [InlineData("Cluster:Peers=a:4319,nohost", "Storage=clickhouse", "'nohost' must be host:port")]
    [InlineData("Cluster:Peers=a:4319,b:4319", "Cluster:Self=c:4319", "Cluster:Self: 'c:4319' is not in Cluster:Peers")]
    [InlineData("Cluster:Peers=a:4319,b:4319", "Storage=embedded", "cluster mode needs storage every node reads")]
    [InlineData("Cluster:Peers=dns:", "Storage=clickhouse", "must be dns:NAME:PORT")]
    [InlineData("Cluster:RegionPeers=eu", "Cluster:Region=us", "Cluster:RegionPeers: 'eu' must be name=http://host:port")]
    [InlineData("Cluster:RegionPeers=eu=ftp://eu:16686", "Cluster:Region=us", "'eu=ftp://eu:16686' must be name=http://host:port")]
    [InlineData("Cluster:RegionPeers=eu=http://eu:16686,us=http://us:16686", "Cluster:Region=us", "names this node's own region (us)")]
    [InlineData("Cluster:RegionTimeout=00:00:00", "Cluster:Region=us", "Cluster:RegionTimeout: 00:00:00 must be between")]
    public void Bad_cluster_settings_are_refused_at_start_naming_the_key(string setting, string other, string expected)
    {
        var overrides = new Dictionary<string, string?>();
        foreach (var pair in new[] { setting, other })
        {
            overrides[pair[..pair.IndexOf('=', StringComparison.Ordinal)]] = pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..];
        }

        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(null, overrides));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
