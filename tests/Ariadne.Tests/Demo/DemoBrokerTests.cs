using System.Net;
using System.Net.Sockets;
using Ariadne.Demo;
using RabbitMQ.Client;

namespace Ariadne.Tests.Demo;

/// <summary>`ariadne demo` starts its own RabbitMQ when rabbitmq-server is installed (scripts/test.sh installs it).</summary>
public sealed class DemoBrokerTests
{
    [Fact]
    public async Task The_private_broker_takes_amqp_connections_and_is_gone_after_dispose()
    {
        Assert.True(DemoBroker.IsInstalled, $"{DemoBroker.ServerPath} is missing: apt-get install rabbitmq-server (scripts/test.sh does)");
        var broker = await DemoBroker.StartAsync(TimeSpan.FromSeconds(90), CancellationToken.None);
        var uri = new Uri(broker.Uri);
        try
        {
            await using var connection = await new ConnectionFactory { Uri = uri }.CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync();
            var queue = await channel.QueueDeclareAsync(exclusive: true);
            Assert.StartsWith("amq.gen-", queue.QueueName, StringComparison.Ordinal);
        }
        finally
        {
            await broker.DisposeAsync();
        }

        using var probe = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, uri.Port));
    }
}
