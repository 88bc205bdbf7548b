using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Ariadne.Tests.Infrastructure;

/// <summary>
/// Ports for servers that a fixture configures and starts itself (ClickHouse, RabbitMQ, NATS, Alertmanager). Binding
/// port 0 to find one hands out a port of the kernel's ephemeral range, which every outgoing connection of the test
/// run draws from too: between the probe and the server's own bind, an HTTP client can take it and the server fails
/// with "Address already in use". These ports come from below that range, never twice in one run, and are free when
/// handed out.
/// </summary>
public static class FreePort
{
    private const int Lowest = 10_000;
    private static readonly HashSet<int> s_handedOut = [];
    private static readonly int s_ephemeralStart = EphemeralRangeStart();

    public static int Next()
    {
        lock (s_handedOut)
        {
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var port = Random.Shared.Next(Lowest, s_ephemeralStart);
                if (s_handedOut.Add(port) && IsFree(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No free loopback port between {Lowest} and {s_ephemeralStart}: stop leftover servers (ss -ltnp) and run again.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The first port of /proc/sys/net/ipv4/ip_local_port_range (Linux's default 32768 elsewhere).</summary>
    private static int EphemeralRangeStart()
    {
        const string path = "/proc/sys/net/ipv4/ip_local_port_range";
        var first = File.Exists(path) ? File.ReadAllText(path).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() : null;
        return int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out var start) && start > Lowest + 1_000 ? start : 32_768;
    }
}
