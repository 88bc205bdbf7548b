using System.Diagnostics;
using System.Text;
using Ariadne.Instrumentation;
using Ariadne.Instrumentation.Context;
using Ariadne.Instrumentation.Messaging;
using Ariadne.Tests.Infrastructure;
using NATS.Client.Core;
using OpenTelemetry;
using OpenTelemetry.Trace;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Ariadne.Tests.Instrumentation;

/// <summary>Trace context and business baggage survive a round trip through real brokers.</summary>
[Collection(SdkCollection.Name)]
public sealed class MessagingPropagationTests(RabbitMqServerFixture rabbit, NatsServerFixture nats) : IClassFixture<NatsServerFixture>, IAsyncLifetime
{
    private const string TestSource = "Ariadne.Tests.Messaging";

    private readonly List<Activity> _exported = [];
    private ServiceProvider _sdk = null!;

    public Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAriadneTracing("messaging-under-test", options =>
        {
            options.OtlpEndpoint = BusinessContextTests.ClosedPortUri();
            options.ExportLogs = false;
            options.ExportMetrics = false;
            options.Sources.Add(TestSource);
            options.ConfigureTracing = tracing => tracing.AddInMemoryExporter(_exported);
        });
        _sdk = services.BuildServiceProvider();
        _sdk.GetRequiredService<TracerProvider>();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _sdk.DisposeAsync();

    [Fact]
    public async Task RabbitMQ_consumer_span_is_a_child_of_the_producer_span_and_carries_allowlisted_baggage()
    {
        var factory = new ConnectionFactory { Uri = new Uri(rabbit.Uri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var queue = (await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true)).QueueName;
        var received = new TaskCompletionSource<(string? User, string? Baggage)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            (string?, string?) seen;
            using (RabbitMqTracing.StartProcess(delivery, queue))
            {
                var raw = delivery.BasicProperties.Headers?["baggage"] as byte[];
                seen = (AriadneContext.Get(AriadneContext.UserIdKey), raw is null ? null : Encoding.UTF8.GetString(raw));
            }

            // Only once the consumer span has ended (and so been exported) may the test look for it.
            received.TrySetResult(seen);
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue, autoAck: true, consumer);

        var (root, producerTrace) = await PublishInTraceAsync(() => channel.PublishTracedAsync(string.Empty, queue, "order placed"u8.ToArray()));
        var (user, baggage) = await received.Task.WaitAsync(TimeSpan.FromSeconds(30));

        AssertPropagated(root, producerTrace, user, baggage, "rabbitmq", "publish amq.default");
    }

    [Fact]
    public async Task NATS_consumer_span_is_a_child_of_the_producer_span_and_carries_allowlisted_baggage()
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = nats.Url });
        await connection.ConnectAsync();
        var subject = $"orders.{Guid.NewGuid():N}";
        var received = new TaskCompletionSource<(string? User, string? Baggage)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = await connection.SubscribeCoreAsync<string>(subject);
        var consume = Task.Run(async () =>
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync())
            {
                (string?, string?) seen;
                using (NatsTracing.StartProcess(message, "notifications"))
                {
                    seen = (AriadneContext.Get(AriadneContext.UserIdKey), message.Headers?["baggage"].ToString());
                }

                received.TrySetResult(seen);
                return;
            }
        });

        var (root, producerTrace) = await PublishInTraceAsync(() => connection.PublishTracedAsync(subject, "order placed"));
        var (user, baggage) = await received.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await consume;
        await subscription.DisposeAsync();

        AssertPropagated(root, producerTrace, user, baggage, "nats", $"publish {subject}");
    }

    private void AssertPropagated(ActivitySpanId root, ActivityTraceId trace, string? user, string? baggage, string system, string producerName)
    {
        Assert.Equal("user-9", user);
        Assert.NotNull(baggage);
        Assert.Contains("user.id=user-9", baggage);
        Assert.DoesNotContain("partner.token", baggage);
        Assert.DoesNotContain("internal.note", baggage);

        var producer = Assert.Single(_exported, a => a.Kind == ActivityKind.Producer && a.TraceId == trace);
        Assert.Equal(producerName, producer.DisplayName);
        Assert.Equal(root, producer.ParentSpanId);
        Assert.Equal(system, producer.GetTagItem("messaging.system"));
        Assert.Equal("send", producer.GetTagItem("messaging.operation.type"));

        var consumer = Assert.Single(_exported, a => a.Kind == ActivityKind.Consumer && a.TraceId == trace);
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
        Assert.Equal("process", consumer.GetTagItem("messaging.operation.type"));
        Assert.Equal("user-9", consumer.GetTagItem("user.id"));
        Assert.Null(consumer.GetTagItem("partner.token"));
    }

    private static async Task<(ActivitySpanId Root, ActivityTraceId Trace)> PublishInTraceAsync(Func<ValueTask> publish)
    {
        using var source = new ActivitySource(TestSource);
        using var root = source.StartActivity("checkout", ActivityKind.Server) ?? throw new InvalidOperationException("the test source is not recorded");
        AriadneContext.SetUser("user-9");
        AriadneContext.Set("internal.note", "stays here");
        Baggage.SetBaggage("partner.token", "must not travel");
        await publish();
        Baggage.Current = default;
        return (root.SpanId, root.TraceId);
    }
}
