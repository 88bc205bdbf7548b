using System.IO.Hashing;
using Ariadne.Model;

namespace Ariadne.Cluster;

/// <summary>
/// The consistent-hash ring of cluster mode: each peer owns <see cref="PointsPerPeer"/> points on a 64-bit ring
/// (<c>xxHash64(peer + "#" + i)</c>), and a trace belongs to the peer of the first point at or after
/// <c>xxHash64(trace id)</c>, as the OpenTelemetry Collector's load-balancing exporter places traces. Many points
/// per peer spread each peer's share over the ring, so when a peer leaves its traces go to all the others (each
/// takes about 1/(N−1) of them) and no other trace moves. Every node builds the same ring from the same peer list.
/// </summary>
public sealed class HashRing
{
    public const int PointsPerPeer = 128;

    private readonly ulong[] _points;
    private readonly int[] _owners;

    public HashRing(IEnumerable<string> peers)
    {
        Peers = peers.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (Peers.Count == 0)
        {
            throw new ArgumentException("A ring needs at least one peer.", nameof(peers));
        }

        var points = new List<(ulong Point, int Owner)>(Peers.Count * PointsPerPeer);
        for (var owner = 0; owner < Peers.Count; owner++)
        {
            for (var i = 0; i < PointsPerPeer; i++)
            {
                points.Add((XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes($"{Peers[owner]}#{i}")), owner));
            }
        }

        // Ties (astronomically rare) are broken by peer name, so every node orders them alike.
        points.Sort((a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : a.Owner.CompareTo(b.Owner));
        _points = points.Select(p => p.Point).ToArray();
        _owners = points.Select(p => p.Owner).ToArray();
    }

    /// <summary>The peers, sorted (the order does not change the ring).</summary>
    public IReadOnlyList<string> Peers { get; }

    public string Owner(TraceId traceId) => Peers[_owners[FirstPoint(traceId)]];

    /// <summary>
    /// The owner among the peers <paramref name="usable"/> accepts: the peer of the first point at or after the
    /// trace's hash whose peer is usable, so the traces of a peer that is down go to the next peers on the ring,
    /// spread as when it leaves. Null when no peer is usable.
    /// </summary>
    public string? OwnerAmong(TraceId traceId, Func<string, bool> usable)
    {
        var start = FirstPoint(traceId);
        var tried = 0UL;
        for (var step = 0; step < _points.Length; step++)
        {
            var owner = _owners[(start + step) % _points.Length];
            if (owner < 64 && (tried & (1UL << owner)) != 0)
            {
                continue;
            }

            if (usable(Peers[owner]))
            {
                return Peers[owner];
            }

            if (owner < 64)
            {
                tried |= 1UL << owner;
            }
        }

        return null;
    }

    public static ulong Hash(TraceId traceId)
    {
        Span<byte> bytes = stackalloc byte[TraceId.ByteLength];
        traceId.WriteBytes(bytes);
        return XxHash64.HashToUInt64(bytes);
    }

    private int FirstPoint(TraceId traceId)
    {
        var hash = Hash(traceId);
        var index = Array.BinarySearch(_points, hash);
        if (index < 0)
        {
            index = ~index;
        }

        return index == _points.Length ? 0 : index;
    }
}
